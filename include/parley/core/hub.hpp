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

#include "parley/core/remote_link.hpp"
#include "parley/core/router.hpp"
#include "parley/core/sink.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

// What the hub knows of one online id: its connections here, the other nodes that hold it (in a
// cluster) and the ids it chats with. Partners are held by entry, so that routing hashes only
// the recipient's id; an entry is erased when its id has no connection left anywhere, after it
// has been taken out of its partners' sets.
// Sized for the common case, an id on one connection that chats with few others or none: the
// first connection is held inline and the partner set is made at the first partnership.
struct online_entry {
  using partner_set = std::unordered_set<online_entry*>;

  boost::container::small_vector<std::shared_ptr<sink>, 1> connections;
  std::unique_ptr<partner_set> partners;
  const std::string* key = nullptr;  // the hub's key for this entry (its map's nodes do not move)
  node_set nodes = 0;                // the other nodes with a connection of this id

  std::string_view id() const { return *key; }
  bool online_anywhere() const { return !connections.empty() || nodes != 0; }
  void add_partner(online_entry* other);
  void remove_partner(online_entry* other);
};

// The router of one server: which ids are online on which connections, chat partners,
// presence watchers. Thread-safe: every call picks its recipients under one mutex and
// delivers to their sinks after releasing it.
//
// As one node of a cluster (attach()), it also knows which ids the other nodes hold, so that
// `who`, presence, partners and `left` are the cluster's: the link feeds it the other nodes'
// changes (the remote_* methods, on the link's thread) and it forwards frames for ids held
// elsewhere to those nodes only.
class hub final : public router {
 public:
  hub();

  // Makes this hub one node of a cluster: `link` reaches the others, `node_tag` (hex) goes into
  // message ids so that no two nodes make the same one. Before the hub is used; `link` outlives
  // every later call.
  void attach(remote_link& link, std::string_view node_tag);

  void join(member& m) override;
  void leave(member& m) override;
  route_result route(const member& from, std::string_view to,
                     const protocol::shared_frame& frame) override;
  bool route_stored(const member& from, std::string_view to,
                    const protocol::shared_frame& frame) override;
  void notify(std::string_view to, const protocol::shared_frame& frame) override;
  void notify_others(const member& m, const protocol::shared_frame& frame) override;
  bool online(std::string_view id) const override;
  void online(std::span<const std::string_view> ids, std::vector<bool>& out) const override;
  online_list who(std::size_t max_ids) const override;
  online_list who_contacts(const member& asker, std::size_t max_ids) const override;
  std::vector<std::shared_ptr<sink>> connections_of(std::string_view id) const override;
  void watch(member& m, std::span<const std::string_view> ids) override;
  // Start time and a counter, in hex.
  message_id next_message_id() override;
  std::size_t connection_count() const override {
    return connections_.load(std::memory_order_relaxed);
  }

  // The cluster's side (the link's thread). `node` is one bit of a node_set.
  // A frame another node forwarded: delivered as `how` says to this node's connections.
  void remote_deliver(remote_delivery how, std::string_view from, std::string_view to,
                      const protocol::shared_frame& frame);
  // `node` gained its first connection of `id`, or lost its last one.
  void remote_presence(node_set node, std::string_view id, bool online);
  // `node` holds exactly `ids` (a node's whole state, after it joined or reconnected).
  void remote_sync(node_set node, std::span<const std::string_view> ids);
  // `node` is gone (stopped, or dead past --node-ttl): none of its connections are left.
  void remote_node_gone(node_set node);
  // Calls `with(ids)` with the ids this node has connections of, under the hub's lock: what the
  // link sends as this node's state is then ordered with the local_presence calls around it.
  void with_local_ids(const std::function<void(std::span<const std::string_view>)>& with) const;

 private:
  // noexcept, so that the maps' nodes do not cache the hash: 8 bytes less per online id (an id
  // is short, and hashing it again on a rehash costs less than keeping it).
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  template <typename V>
  using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;
  using sink_list = std::vector<std::shared_ptr<sink>>;
  using entry_iterator = string_map<online_entry>::iterator;
  struct goodbyes;  // who is told that ids went offline, gathered under the lock

  void remove_watcher(const member& m);
  // Caller holds the lock: adds the connections watching `entry`'s id to `watchers` (told when
  // it comes online or goes offline anywhere).
  void add_watchers(const online_entry& entry, sink_list& watchers) const;
  // Caller holds the lock: erases the entry of an id with no connection left anywhere, and
  // gathers its partners (to be told `left`) and watchers (presence offline).
  void went_offline(entry_iterator entry, goodbyes& out);
  // Caller holds the lock: clears `node` from the entries where `keep` is false.
  template <typename Keep>
  void drop_node(node_set node, Keep keep, goodbyes& out);
  // Caller holds the lock: the sender's connections other than itself join `targets`, and the
  // two ids become partners (nothing when the sender has left).
  template <typename Targets>
  void add_sender_side(const member& from, online_entry& recipient, Targets& targets);
  void end_partnerships(online_entry& entry, sink_list& told);
  void forward(node_set nodes, remote_delivery how, std::string_view from, std::string_view to,
               const protocol::shared_frame& frame);

  mutable std::mutex mutex_;
  string_map<online_entry> online_;
  string_map<sink_list> watchers_;  // watched id -> sinks that follow it
  std::atomic<std::size_t> connections_{0};
  std::string message_id_prefix_;
  std::atomic<std::uint64_t> message_count_{0};
  remote_link* link_ = nullptr;  // set by attach(), before any other call
};

}  // namespace parley::core
