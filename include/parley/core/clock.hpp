#pragma once
#include <chrono>
#include <cstdint>

namespace parley::core {

// Server time as protocol.md sends it: milliseconds since the Unix epoch.
inline std::int64_t unix_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A steady clock in nanoseconds: the time token buckets are given.
inline std::int64_t steady_nanos() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

// One reading of both clocks. Messages read from the socket together are stamped with one, so
// a batch of them costs two clock readings, not two per message.
struct moment {
  std::int64_t steady_ns;  // for rate limits
  std::int64_t unix_ms;    // for `ts`

  static moment now() { return {steady_nanos(), unix_millis()}; }
};

}  // namespace parley::core
