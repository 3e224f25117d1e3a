#pragma once
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <variant>

#include "parley/core/rate_limiter.hpp"
#include "parley/net/server_config.hpp"

namespace parley::net {

// Why a connection gets no slot (see ip_limits::acquire).
enum class ip_refusal {
  too_many_open,      // its address has max_connections_per_ip open: 429
  too_many_new,       // its address is over max_new_connections_per_ip: 429
  too_many_addresses  // max_tracked_ips addresses all have open connections: 503
};

// The per-address connection limits, shared by every worker thread: for each peer address, its
// open TCP connections (pages and WebSockets alike) and a token bucket of new connections.
// An IPv6 peer is counted by its /64, the block one subscriber or LAN is given (else one host
// could take a fresh address per connection); an IPv4-mapped IPv6 peer counts as its IPv4.
// Loopback peers are not counted unless server_config::ip_limits_on_loopback.
//
// Bounded: an address with no open connection is forgotten once its bucket is full again (a
// new entry would be the same), and at max_tracked_ips the longest-idle address is forgotten
// early (it may then connect at once: lenient, never a wrong refusal). Every call holds one
// mutex for a hash lookup and a few list steps; safe from any thread.
class ip_limits {
 public:
  using address_key = boost::asio::ip::address_v6::bytes_type;  // IPv4 as IPv4-mapped IPv6

  // A connection's place in its address's count, given back when destroyed. Move-only; an
  // empty slot (an exempt peer) counts nothing. The table must outlive its slots.
  class slot {
   public:
    slot() = default;
    slot(slot&& other) noexcept;
    slot& operator=(slot&& other) noexcept;
    ~slot();

   private:
    friend class ip_limits;
    slot(ip_limits& table, const address_key& key) : table_(&table), key_(key) {}

    ip_limits* table_ = nullptr;
    address_key key_{};
  };

  explicit ip_limits(const server_config& config);
  ip_limits(const ip_limits&) = delete;
  ip_limits& operator=(const ip_limits&) = delete;

  // Counts a new connection from `peer` at `now_ns` (core::steady_nanos()): a slot, or why
  // not. Every connection takes a token, even one refused for too many open: a client that
  // keeps retrying at its cap is held to the rate as well. A refused one takes no slot.
  std::variant<slot, ip_refusal> acquire(const boost::asio::ip::address& peer, std::int64_t now_ns);

  // Takes the per-address settings of `config` (SIGHUP). Every tracked address gets a full
  // bucket at the new rate; counts of open connections stay, so a lowered cap refuses new
  // connections until enough have closed.
  void update(const server_config& config);

  // Addresses tracked now (for tests).
  std::size_t tracked() const;

 private:
  struct entry {
    explicit entry(double rate);

    std::size_t open = 0;
    core::token_bucket new_connections;
    // Its node: in idle_ while open == 0, else in busy_. Moving it between them is a splice,
    // which allocates nothing, so giving a slot back cannot fail.
    std::list<address_key>::iterator place;
  };
  struct key_hash {
    std::size_t operator()(const address_key& key) const noexcept;
  };

  // The entry for `key`, made (idle) if needed; null when every tracked address is open.
  entry* find_or_make(const address_key& key);
  // Forgets idle addresses whose buckets are full again, longest idle first.
  void forget_refilled(std::int64_t now_ns);
  void forget(std::list<address_key>::iterator idle);
  void release(const address_key& key) noexcept;

  std::atomic<bool> limit_loopback_;  // read before the lock: loopback peers never take it
  mutable std::mutex mutex_;          // guards everything below
  std::size_t max_open_;
  double max_new_per_second_;
  std::size_t max_tracked_;
  std::unordered_map<address_key, entry, key_hash> entries_;
  std::list<address_key> idle_;  // addresses with no open connection, longest idle first
  std::list<address_key> busy_;  // the others, in no order
};

}  // namespace parley::net
