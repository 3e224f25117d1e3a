#pragma once
#include <algorithm>
#include <cstdint>

namespace parley::core {

// A token bucket: `rate` tokens a second, holding at most `burst`. Time is given by the
// caller (nanoseconds of a steady clock), so it is tested without waiting.
class token_bucket {
 public:
  token_bucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // Takes `cost` tokens if the bucket has them. A rate of 0 means no limit.
  bool try_take(std::int64_t now_ns, double cost = 1) {
    if (rate_ <= 0) return true;
    if (last_ns_ != 0) tokens_ = std::min(burst_, tokens_ + (now_ns - last_ns_) * 1e-9 * rate_);
    last_ns_ = now_ns;
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::int64_t last_ns_ = 0;
};

}  // namespace parley::core
