#include "parley/net/log_throttle.hpp"

#include <utility>

namespace parley::net {

std::optional<std::size_t> log_throttle::admit(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    written_in_window_ = 0;
  }
  if (written_in_window_ >= per_second_) {
    ++left_out_;
    return std::nullopt;
  }
  ++written_in_window_;
  return std::exchange(left_out_, 0);
}

}  // namespace parley::net
