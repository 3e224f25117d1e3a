#pragma once
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
// Kept small (it is in every idle connection): "not set" is a sentinel. A plain value owned
// by one ws_session: only its worker's thread touches it.
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
  explicit liveness(std::optional<std::int64_t> token_expires_at)
      : token_expires_at_(token_expires_at.value_or(no_expiry)) {}

  // The connection is open as of `now`: the first ping is due an interval later.
  void start(clock::time_point now) { last_heard_ = last_ping_ = now; }
  // Bytes arrived at `at`: any frame answers a ping, not only a pong.
  void heard(clock::time_point at) { last_heard_ = at; }

  // What to do at `now`. `unix_seconds()` reads the wall clock; it is called only when the
  // connection has a token (most have none, and every connection is checked each tick).
  // An expired token is answered first, then the pings.
  template <typename WallClock>
  verdict check(clock::time_point now, const server_config& config, WallClock unix_seconds) {
    if (token_expires_at_ != no_expiry && unix_seconds() > token_expires_at_) {
      return verdict::token_expired;
    }
    return check_pings(now, config);
  }

 private:
  static constexpr clock::time_point never = clock::time_point::max();
  static constexpr std::int64_t no_expiry = INT64_MAX;

  verdict check_pings(clock::time_point now, const server_config& config);

  clock::time_point last_heard_;
  clock::time_point last_ping_;
  clock::time_point unanswered_since_ = never;  // the first ping not yet answered
  std::int64_t token_expires_at_;               // no_expiry without a token
};

}  // namespace parley::net
