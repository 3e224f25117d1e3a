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

#include "parley/core/router.hpp"
#include "parley/core/sink.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

// What the hub knows of one online id: its connections and the ids it chats with. Partners
// are held by entry, so that routing hashes only the recipient's id; an entry is erased with
// its id's last connection, after it has been taken out of its partners' sets.
// Sized for the common case, an id on one connection that chats with few others or none: the
// first connection is held inline and the partner set is made at the first partnership.
struct online_entry {
  using partner_set = std::unordered_set<online_entry*>;

  boost::container::small_vector<std::shared_ptr<sink>, 1> connections;
  std::unique_ptr<partner_set> partners;
  std::string_view id;  // the hub's key for this entry (its map's nodes do not move)

  void add_partner(online_entry* other);
  void remove_partner(online_entry* other);
};

// The router of one server: which ids are online on which connections, chat partners,
// presence watchers. Thread-safe: every call picks its recipients under one mutex and
// delivers to their sinks after releasing it.
class hub final : public router {
 public:
  hub();

  void join(member& m) override;
  void leave(member& m) override;
  bool route(const member& from, std::string_view to, const protocol::shared_frame& frame) override;
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

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;
  using sink_list = std::vector<std::shared_ptr<sink>>;

  void remove_watcher(const member& m);
  // Caller holds the lock: the sender's connections other than itself join `targets`, and the
  // two ids become partners (nothing when the sender has left).
  template <typename Targets>
  void add_sender_side(const member& from, online_entry& recipient, Targets& targets);
  void end_partnerships(online_entry& entry, sink_list& told);

  mutable std::mutex mutex_;
  string_map<online_entry> online_;
  string_map<sink_list> watchers_;  // watched id -> sinks that follow it
  std::atomic<std::size_t> connections_{0};
  std::string message_id_prefix_;
  std::atomic<std::uint64_t> message_count_{0};
};

}  // namespace parley::core
