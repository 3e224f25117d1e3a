#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

namespace parley::net {

// Bounds how often one kind of log line is written: at most `lines_per_second` in each second,
// the rest counted, so that the next line written can say how many were left out. A flood (a
// failing accept(), refused clients) then costs a few lines a second, not thousands.
// Safe from any thread.
class log_throttle {
 public:
  explicit log_throttle(std::size_t lines_per_second) : per_second_(lines_per_second) {}

  // nullopt: leave this line out (it is counted). Otherwise write it, with the number of lines
  // left out since the last one written.
  std::optional<std::size_t> admit(std::chrono::steady_clock::time_point now);

 private:
  std::mutex mutex_;
  const std::size_t per_second_;
  std::chrono::steady_clock::time_point window_start_{};
  std::size_t written_in_window_ = 0;
  std::size_t left_out_ = 0;
};

}  // namespace parley::net
