#include "parley/net/liveness.hpp"

namespace parley::net {

// A ping is answered by anything heard since it was sent. A ping sent while an earlier one is
// unanswered keeps the earlier time: the timeout counts from the first.
liveness::verdict liveness::check_pings(clock::time_point now, const server_config& config) {
  if (config.ping_interval_seconds <= 0) return verdict::nothing;
  auto millis = [](double seconds) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(seconds_setting(seconds)).count();
  };
  stamp const at = to_stamp(now);
  if (unanswered_since_ != never && millis_between(unanswered_since_, last_heard_) >= 0) {
    unanswered_since_ = never;
  }
  if (unanswered_since_ != never &&
      millis_between(unanswered_since_, at) >= millis(config.ping_timeout_seconds)) {
    return verdict::ping_timeout;
  }
  if (millis_between(last_ping_, at) >= millis(config.ping_interval_seconds)) {
    last_ping_ = at;
    if (unanswered_since_ == never) unanswered_since_ = at;
    return verdict::ping;
  }
  return verdict::nothing;
}

}  // namespace parley::net
