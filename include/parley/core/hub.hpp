#pragma once
#include <atomic>
#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "parley/core/sink.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

struct online_entry;

// One connection's place in the hub, owned by the connection. The hub holds a strong
// reference to the sink from join() to leave() (taken from `self_ref`), so that it can deliver
// outside its lock; the connection itself never holds one, so nothing keeps it alive in a cycle.
struct member {
  std::string id;
  sink* self = nullptr;               // the connection's own sink: identity and replies
  std::weak_ptr<sink> self_ref;       // set before join()
  std::vector<std::string> watching;  // ids whose presence it follows
  bool joined = false;
  online_entry* entry = nullptr;  // its id's entry in the hub while joined; set by the hub
};

// What the hub knows of one online id: its connections and the ids it chats with. Partners
// are held by entry, so that routing hashes only the recipient's id; an entry is erased with
// its id's last connection, after it has been taken out of its partners' sets.
// Sized for the common case, an id on one connection that chats with few others or none: the
// first connection is held inline and the partner set is made at the first partnership.
struct online_entry {
  using partner_set = std::unordered_set<online_entry*>;

  boost::container::small_vector<std::shared_ptr<sink>, 1> connections;
  std::unique_ptr<partner_set> partners;

  void add_partner(online_entry* other);
  void remove_partner(online_entry* other);
};

// A message id, held inline (no allocation per message): "<start ms hex>-<counter hex>".
class message_id {
 public:
  std::string_view view() const { return {data_, size_}; }
  operator std::string_view() const { return view(); }

 private:
  friend class hub;
  char data_[34];  // 16 + 1 + 16 hex digits and room to spare
  std::uint8_t size_ = 0;
};

// Routing state of one server: which ids are online on which connections, chat partners,
// presence watchers. Thread-safe: every call picks its recipients under one mutex and
// delivers to their sinks after releasing it.
class hub {
 public:
  struct online_list {
    std::vector<std::string> ids;  // at most the limit asked for
    std::size_t total;
  };

  hub();

  // Adds a connection; watchers of its id learn it is online when it is the id's first.
  void join(member& m);
  // Removes a connection, once (later calls do nothing). When it was its id's last, every chat
  // partner gets `left` and every watcher `presence` offline.
  void leave(member& m);

  // Hands `frame` to every connection of `to` and to the sender's other connections, and makes
  // the two ids chat partners. False when `to` has no connection (nothing was delivered).
  bool route(const member& from, std::string_view to, const protocol::shared_frame& frame);
  // Hands `frame` to every connection of `to`; no partnership, no report.
  void notify(std::string_view to, const protocol::shared_frame& frame);
  online_list who(std::size_t max_ids) const;
  // Follows the presence of `ids` and sends `m` one `presence` for each, with its state now.
  void watch(member& m, std::span<const std::string_view> ids);

  // A message id unique across this server's runs: start time and a counter, in hex.
  message_id next_message_id();

  std::size_t connection_count() const { return connections_.load(std::memory_order_relaxed); }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;
  using sink_list = std::vector<std::shared_ptr<sink>>;

  void remove_watcher(const member& m);
  void end_partnerships(online_entry& entry, sink_list& told);

  mutable std::mutex mutex_;
  string_map<online_entry> online_;
  string_map<sink_list> watchers_;  // watched id -> sinks that follow it
  std::atomic<std::size_t> connections_{0};
  std::string message_id_prefix_;
  std::atomic<std::uint64_t> message_count_{0};
};

}  // namespace parley::core
