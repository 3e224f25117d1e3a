#pragma once
#include <array>
#include <atomic>
#include <cstdint>

#include "parley/protocol/error_code.hpp"

namespace parley::core {

// A counter with one writer (its worker's thread) and any number of readers (a /metrics
// scrape): the writer adds with a plain load and store, no locked instruction on the hot path.
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void raise_to(std::uint64_t n) noexcept {
    if (n > value_.load(std::memory_order_relaxed)) value_.store(n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// What one worker thread counts; /metrics sums them over the workers.
struct counters {
  static constexpr std::size_t error_codes = 9;  // protocol::error_code values

  counter messages_in;                      // text and binary messages received
  counter messages_out;                     // frames queued to clients
  counter bytes_in;                         // bytes read from WebSockets
  counter bytes_out;                        // bytes written to WebSockets
  std::array<counter, error_codes> errors;  // error frames sent, by protocol::error_code
  counter closes_normal;                    // 1000 and 1001
  counter closes_protocol;                  // 1002, 1007, 1009
  counter closes_slow_consumer;             // 4008
  counter closes_ping_timeout;              // 4000
  counter closes_kicked;                    // 4003: an operator's kick or ban
  counter closes_abnormal;                  // connection lost without a close handshake (1006)
  counter outbox_peak_bytes;                // the most unsent bytes one connection has held
  counter connections_opened;
  counter http_requests;
  counter address_refusals;       // connections refused by the per-address limits (429, 503)
  counter proxy_header_refusals;  // trusted proxies' connections closed for their PROXY header

  void count_error(protocol::error_code code) noexcept {
    errors[static_cast<std::size_t>(code)].add();
  }
};

}  // namespace parley::core
