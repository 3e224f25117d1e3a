#pragma once
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>

#include "parley/net/server_config.hpp"

namespace parley::net {

// Whether a connection's peer is still there and still allowed (protocol.md, "Liveness"):
// a ping every ping_interval_seconds; no frame of any kind within ping_timeout_seconds of the
// first ping left unanswered ends the connection (4000); past its token's expiry it is
// closed (4001). It only answers what to do; the session sends and closes.
//
// Kept small (it is in every idle connection): times are 32-bit stamps and "not set" is a
// sentinel. A plain value owned by one ws_session: only its worker's thread touches it.
class liveness {
 public:
  using clock = std::chrono::steady_clock;

  enum class verdict : std::uint8_t {
    nothing,
    ping,           // send a ping now (counted as sent)
    ping_timeout,   // close with 4000: a ping went unanswered for too long
    token_expired,  // close with 4001
  };

  // `token_expires_at`: the last Unix second at which the connection's token is accepted, if
  // it has one.
  // it has one. An expiry past 2106 counts as 2106 (Unix seconds are kept in 32 bits).
  explicit liveness(std::optional<std::int64_t> token_expires_at)
      : token_expires_at_(token_expires_at ? static_cast<std::uint32_t>(std::clamp<std::int64_t>(
                                                 *token_expires_at, 0, no_expiry - 1))
                                           : no_expiry) {}

  // The connection is open as of `now`: the first ping is due an interval later.
  void start(clock::time_point now) { last_heard_ = last_ping_ = to_stamp(now); }
  // Bytes arrived at `at`: any frame answers a ping, not only a pong.
  void heard(clock::time_point at) { last_heard_ = to_stamp(at); }

  // What to do at `now`. `unix_seconds()` reads the wall clock; it is called only when the
  // connection has a token (most have none, and every connection is checked each tick).
  // An expired token is answered first, then the pings.
  template <typename WallClock>
  verdict check(clock::time_point now, const server_config& config, WallClock unix_seconds) {
    if (token_expires_at_ != no_expiry && unix_seconds() > std::int64_t{token_expires_at_}) {
      return verdict::token_expired;
    }
    return check_pings(now, config);
  }

 private:
  // Steady-clock milliseconds modulo 2^32: differences are exact for spans under 24 days, far
  // past any ping setting. 0 means "never": a time whose stamp is 0 is taken as 1 ms later.
  using stamp = std::uint32_t;
  static constexpr stamp never = 0;
  static constexpr std::uint32_t no_expiry = UINT32_MAX;

  static stamp to_stamp(clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    auto s = static_cast<stamp>(ms);
    return s == never ? 1 : s;
  }
  // Milliseconds from `earlier` to `later` (negative when `later` is before).
  static std::int64_t millis_between(stamp earlier, stamp later) {
    return static_cast<std::int32_t>(later - earlier);
  }
  verdict check_pings(clock::time_point now, const server_config& config);

  stamp last_heard_ = never;
  stamp last_ping_ = never;
  stamp unanswered_since_ = never;  // the first ping not yet answered
  std::uint32_t token_expires_at_;  // Unix seconds; no_expiry without a token
};

}  // namespace parley::net
