#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/sink.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

struct online_entry;

// What `who` shows a client (--presence-scope): every online id, only its contacts (chat
// partners and watched ids), or nothing. `watch` answers for named ids in every scope.
enum class presence_scope { all, contacts, off };

// One connection's place in the router, owned by the connection. The router holds a strong
// reference to the sink from join() to leave() (taken from the sink's weak_from_this()), so that
// it can deliver outside its lock; the connection itself never holds one, so nothing keeps it
// alive in a cycle.
struct member {
  member() = default;
  member(std::string id, sink* self) : id(std::move(id)), self(self) {}

  std::string id;
  sink* self = nullptr;  // the connection's own sink: identity and replies
  // Ids whose presence it follows; made at the first watch (most connections watch nobody).
  std::unique_ptr<std::vector<std::string>> watching;
  online_entry* entry = nullptr;  // its id's entry in the hub while joined; set by the hub

  bool joined() const { return entry != nullptr; }
  const std::vector<std::string>& watched() const {
    static const std::vector<std::string> none;
    return watching ? *watching : none;
  }
  bool watches(std::string_view other) const {
    return std::find(watched().begin(), watched().end(), other) != watched().end();
  }
  void add_watched(std::string_view other) {
    if (!watching) watching = std::make_unique<std::vector<std::string>>();
    watching->emplace_back(other);
  }
};

// A message id, held inline (no allocation per message): "<start ms hex>-<counter hex>", and
// in a cluster "<start ms hex>-<node tag hex>-<counter hex>".
class message_id {
 public:
  message_id() = default;
  message_id(std::string_view text);  // at most capacity bytes are kept
  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }
  static constexpr std::size_t capacity = 44;  // 16 + 1 + 8 + 1 + 16 hex digits, and room

 private:
  friend class hub;
  char data_[capacity];
  std::uint8_t size_ = 0;
};

// What became of a message handed to route().
enum class route_result {
  delivered,    // handed to the recipient's connections (here, or queued to their nodes)
  offline,      // the recipient has no connection anywhere
  unreachable,  // its connections are all on other nodes, which cannot be reached now
};

// Who is online where, and how a frame reaches an id's connections: what chat_connection and
// the store need of routing. The hub is the one implementation: alone, or as one node of a
// cluster when it has a remote_link. "Online" means online anywhere in the cluster.
// Every method is thread-safe and delivers outside its locks (to sinks, which never block).
class router {
 public:
  struct online_list {
    std::vector<std::string> ids;  // at most the limit asked for
    std::size_t total;
  };

  virtual ~router() = default;

  // Adds a connection; watchers of its id learn it is online when it is the id's first.
  virtual void join(member& m) = 0;
  // Removes a connection, once (later calls do nothing). When it was its id's last, every chat
  // partner gets `left` and every watcher `presence` offline.
  virtual void leave(member& m) = 0;
  // Hands `frame` to every connection of `to` and to the sender's other connections, and makes
  // the two ids chat partners. Nothing is delivered unless the result is `delivered`.
  virtual route_result route(const member& from, std::string_view to,
                             const protocol::shared_frame& frame) = 0;
  // A committed message (protocol-v2): to every connection of `to` when it has any (the two
  // become partners when both are online), and to the sender's other connections in any case.
  // True when `to` had a connection it could reach.
  virtual bool route_stored(const member& from, std::string_view to,
                            const protocol::shared_frame& frame) = 0;
  // Hands `frame` to every connection of `to`; no partnership, no report.
  virtual void notify(std::string_view to, const protocol::shared_frame& frame) = 0;
  // Hands `frame` to every connection of m's id but m itself.
  virtual void notify_others(const member& m, const protocol::shared_frame& frame) = 0;
  // True when `id` has a connection this node can reach now (its own, or on a reachable node).
  virtual bool online(std::string_view id) const = 0;
  // online(id) of each of `ids`, into `out` (resized), read under one lock: a store's batch.
  virtual void online(std::span<const std::string_view> ids, std::vector<bool>& out) const = 0;
  // Every online id (`who` with --presence-scope all).
  virtual online_list who(std::size_t max_ids) const = 0;
  // The online ids `asker` may see with --presence-scope contacts: its id's chat partners (ids
  // it has chatted with while both were connected) and the ids its connection watches.
  virtual online_list who_contacts(const member& asker, std::size_t max_ids) const = 0;
  // The connections of `id` on this node now: for the admin API, which describes or closes
  // them outside the router's lock.
  virtual std::vector<std::shared_ptr<sink>> connections_of(std::string_view id) const = 0;
  // Follows the presence of `ids` and sends `m` one `presence` for each, with its state now.
  virtual void watch(member& m, std::span<const std::string_view> ids) = 0;
  // A message id unique across this server's runs (and across the nodes of a cluster).
  virtual message_id next_message_id() = 0;
  // Connections on this node.
  virtual std::size_t connection_count() const = 0;
};

}  // namespace parley::core
