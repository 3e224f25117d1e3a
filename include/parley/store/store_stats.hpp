#pragma once
#include <atomic>
#include <cstdint>

namespace parley::store {

// What /metrics reports of a store. Written by the store's thread, read by any.
struct store_stats {
  std::atomic<std::uint64_t> commits{0};             // transactions committed
  std::atomic<std::uint64_t> committed_messages{0};  // messages in them
  std::atomic<std::uint64_t> commit_failures{0};     // transactions rolled back (disk full, ...)
  std::atomic<std::uint64_t> duplicates{0};          // retries acked without storing again
};

}  // namespace parley::store
