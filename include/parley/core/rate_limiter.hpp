#pragma once
#include <algorithm>
#include <cstdint>

namespace parley::core {

// A token bucket: `rate` tokens a second, holding at most `burst`. Time is given by the
// caller (nanoseconds of a steady clock), so it is tested without waiting.
class token_bucket {
 public:
  token_bucket(double rate, double burst)
      : rate_(static_cast<float>(rate)), burst_(static_cast<float>(burst)), tokens_(burst_) {}

  // Takes `cost` tokens if the bucket has them. A rate of 0 means no limit.
  bool try_take(std::int64_t now_ns, double cost = 1) {
    if (rate_ <= 0) return true;
    tokens_ = available(now_ns);
    last_ns_ = now_ns;
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

  // True when the bucket holds its whole burst at `now_ns`: a new bucket would be the same, so
  // its owner may forget this one.
  bool full(std::int64_t now_ns) const { return rate_ <= 0 || available(now_ns) >= burst_; }

 private:
  double available(std::int64_t now_ns) const {
    if (last_ns_ == 0) return tokens_;
    return std::min<double>(burst_, tokens_ + (now_ns - last_ns_) * 1e-9 * rate_);
  }

  // Settings as float: every connection holds two buckets, and a rate needs no more digits.
  float rate_;
  float burst_;
  double tokens_;
  std::int64_t last_ns_ = 0;
};

}  // namespace parley::core
