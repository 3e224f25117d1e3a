#include "parley/net/liveness.hpp"

namespace parley::net {

// A ping is answered by anything heard since it was sent. A ping sent while an earlier one is
// unanswered keeps the earlier time: the timeout counts from the first.
liveness::verdict liveness::check_pings(clock::time_point now, const server_config& config) {
  if (config.ping_interval_seconds <= 0) return verdict::nothing;
  if (unanswered_since_ != never && last_heard_ >= unanswered_since_) unanswered_since_ = never;
  if (unanswered_since_ != never &&
      now - unanswered_since_ >= seconds_setting(config.ping_timeout_seconds)) {
    return verdict::ping_timeout;
  }
  if (now - last_ping_ >= seconds_setting(config.ping_interval_seconds)) {
    last_ping_ = now;
    if (unanswered_since_ == never) unanswered_since_ = now;
    return verdict::ping;
  }
  return verdict::nothing;
}

}  // namespace parley::net
