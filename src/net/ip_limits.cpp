#include "parley/net/ip_limits.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace parley::net {

namespace ip = boost::asio::ip;

namespace {

// Seconds of the rate an address may open at once, as for the message rate of a connection.
constexpr double burst_seconds = 2;

// At least one connection, so that a rate under 0.5 a second still lets an address in.
double burst_for(double rate) {
  return std::max(1.0, rate * burst_seconds);
}

bool is_loopback(const ip::address& peer) {
  if (peer.is_v4()) return peer.to_v4().is_loopback();
  const ip::address_v6 v6 = peer.to_v6();
  if (v6.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

// What `peer` is counted as: IPv4 (mapped into IPv6), or the /64 of an IPv6 address.
ip_limits::address_key key_of(const ip::address& peer) {
  if (peer.is_v4()) return ip::make_address_v6(ip::v4_mapped, peer.to_v4()).to_bytes();
  ip_limits::address_key key = peer.to_v6().to_bytes();
  if (!peer.to_v6().is_v4_mapped()) std::fill(key.begin() + 8, key.end(), 0);
  return key;
}

// splitmix64's finalizer: every input bit moves every output bit.
std::uint64_t mix(std::uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

ip_limits::entry::entry(double rate) : new_connections(rate, burst_for(rate)) {}

std::size_t ip_limits::key_hash::operator()(const address_key& key) const noexcept {
  std::uint64_t high = 0, low = 0;
  std::memcpy(&high, key.data(), 8);
  std::memcpy(&low, key.data() + 8, 8);
  return static_cast<std::size_t>(mix(high ^ mix(low)));
}

ip_limits::ip_limits(const server_config& config)
    : limit_loopback_(config.ip_limits_on_loopback),
      max_open_(config.max_connections_per_ip),
      max_new_per_second_(config.max_new_connections_per_ip),
      max_tracked_(config.max_tracked_ips) {}

void ip_limits::update(const server_config& config) {
  std::lock_guard lock(mutex_);
  max_open_ = config.max_connections_per_ip;
  max_tracked_ = config.max_tracked_ips;
  limit_loopback_.store(config.ip_limits_on_loopback, std::memory_order_relaxed);
  if (max_new_per_second_ == config.max_new_connections_per_ip) return;
  max_new_per_second_ = config.max_new_connections_per_ip;
  for (auto& [key, counted] : entries_)
    counted.new_connections =
        core::token_bucket(max_new_per_second_, burst_for(max_new_per_second_));
}

std::variant<ip_limits::slot, ip_refusal> ip_limits::acquire(const ip::address& peer,
                                                             std::int64_t now_ns) {
  if (!limit_loopback_.load(std::memory_order_relaxed) && is_loopback(peer)) return slot{};
  const address_key key = key_of(peer);
  std::lock_guard lock(mutex_);
  forget_refilled(now_ns);
  entry* counted = find_or_make(key);
  if (!counted) return ip_refusal::too_many_addresses;
  if (!counted->new_connections.try_take(now_ns)) return ip_refusal::too_many_new;
  if (counted->open >= max_open_) return ip_refusal::too_many_open;
  if (counted->open++ == 0) busy_.splice(busy_.end(), idle_, counted->place);
  return slot(*this, key);
}

std::size_t ip_limits::tracked() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

ip_limits::entry* ip_limits::find_or_make(const address_key& key) {
  if (auto found = entries_.find(key); found != entries_.end()) return &found->second;
  if (entries_.size() >= max_tracked_) {
    if (idle_.empty()) return nullptr;
    forget(idle_.begin());  // lenient: that address may connect again at once
  }
  auto made = entries_.try_emplace(key, max_new_per_second_).first;
  made->second.place = idle_.insert(idle_.end(), key);
  return &made->second;
}

void ip_limits::forget_refilled(std::int64_t now_ns) {
  while (!idle_.empty() && entries_.at(idle_.front()).new_connections.full(now_ns)) {
    forget(idle_.begin());
  }
}

void ip_limits::forget(std::list<address_key>::iterator idle) {
  entries_.erase(*idle);
  idle_.erase(idle);
}

void ip_limits::release(const address_key& key) noexcept {
  std::lock_guard lock(mutex_);
  entry& counted = entries_.find(key)->second;  // an address with open connections stays
  if (--counted.open == 0) idle_.splice(idle_.end(), busy_, counted.place);
}

ip_limits::slot::slot(slot&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)), key_(other.key_) {}

ip_limits::slot& ip_limits::slot::operator=(slot&& other) noexcept {
  if (this == &other) return *this;
  if (table_) table_->release(key_);
  table_ = std::exchange(other.table_, nullptr);
  key_ = other.key_;
  return *this;
}

ip_limits::slot::~slot() {
  if (table_) table_->release(key_);
}

}  // namespace parley::net
