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

// One connection's two buckets, messages and bytes, refilled together: 24 bytes per connection
// (token_bucket twice would be 48), since one moment serves both and floats hold the rates.
// The rates are set when the connection opens (a reload changes those of new connections).
// Each bucket holds two seconds' worth: a client may send a burst at once (a reconnect
// flushing its outbox) and still keep to the rate over time. Time as for token_bucket.
class message_budget {
 public:
  static constexpr float burst_seconds = 2;

  // Rates per second; 0: no limit.
  message_budget(double messages_per_second, double bytes_per_second)
      : message_rate_(static_cast<float>(messages_per_second)),
        byte_rate_(static_cast<float>(bytes_per_second)),
        messages_(message_rate_ * burst_seconds),
        bytes_(byte_rate_ * burst_seconds) {}

  // Takes one message of `bytes` if both buckets hold enough, or nothing.
  bool try_take(std::int64_t now_ns, double bytes) {
    double const elapsed = last_ns_ == 0 ? 0 : static_cast<double>(now_ns - last_ns_) * 1e-9;
    double const messages = refilled(messages_, elapsed, message_rate_);
    double const byte_tokens = refilled(bytes_, elapsed, byte_rate_);
    last_ns_ = now_ns;
    bool const ok =
        (message_rate_ <= 0 || messages >= 1) && (byte_rate_ <= 0 || byte_tokens >= bytes);
    messages_ = static_cast<float>(ok ? messages - 1 : messages);
    bytes_ = static_cast<float>(ok ? byte_tokens - bytes : byte_tokens);
    return ok;
  }

 private:
  static double refilled(float tokens, double elapsed, float rate) {
    return std::min<double>(rate * burst_seconds, tokens + elapsed * rate);
  }

  float message_rate_;
  float byte_rate_;
  float messages_;  // tokens
  float bytes_;
  std::int64_t last_ns_ = 0;
};

}  // namespace parley::core
