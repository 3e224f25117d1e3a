#include "parley/net/liveness.hpp"

#include <gtest/gtest.h>

using parley::net::liveness;
using parley::net::server_config;
using verdict = liveness::verdict;
using namespace std::chrono_literals;

namespace {

const liveness::clock::time_point t0{100s};

server_config pings(double interval, double timeout) {
  server_config config;
  config.ping_interval_seconds = interval;
  config.ping_timeout_seconds = timeout;
  return config;
}

// The wall clock of a connection without a token must not be read (the tick visits every
// connection).
std::int64_t no_wall_clock() {
  ADD_FAILURE() << "the wall clock was read for a connection without a token";
  return 0;
}

// A connection without a token, started at t0.
liveness started() {
  liveness alive(std::nullopt);
  alive.start(t0);
  return alive;
}

}  // namespace

TEST(liveness, is_small) {
  // On x86-64 with libstdc++ (Debian 12): RSS per idle connection is a published figure.
  if (sizeof(void*) == 8) {
    EXPECT_EQ(sizeof(liveness), 16u);
  }
}

TEST(liveness, pings_once_an_interval_while_the_peer_answers) {
  auto config = pings(10, 5);
  auto alive = started();
  EXPECT_EQ(alive.check(t0 + 9s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::nothing);  // counted as sent
  alive.heard(t0 + 11s);
  EXPECT_EQ(alive.check(t0 + 19s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 20s, config, no_wall_clock), verdict::ping);
  alive.heard(t0 + 24s);
  EXPECT_EQ(alive.check(t0 + 25s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 30s, config, no_wall_clock), verdict::ping);
}

TEST(liveness, a_silent_peer_times_out_only_after_an_unanswered_ping) {
  auto config = pings(10, 5);
  auto alive = started();
  // Silent for 9 s: longer than the timeout, but no ping has gone unanswered yet.
  EXPECT_EQ(alive.check(t0 + 9s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 14s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 15s, config, no_wall_clock), verdict::ping_timeout);
}

TEST(liveness, what_was_heard_before_the_ping_does_not_answer_it) {
  auto config = pings(10, 5);
  auto alive = started();
  alive.heard(t0 + 9s);
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 15s, config, no_wall_clock), verdict::ping_timeout);
}

TEST(liveness, a_late_answer_resets_the_timeout) {
  auto config = pings(10, 5);
  auto alive = started();
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::ping);
  alive.heard(t0 + 14900ms);  // just in time
  EXPECT_EQ(alive.check(t0 + 15s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 19s, config, no_wall_clock), verdict::nothing);
  // The next ping starts a fresh wait.
  EXPECT_EQ(alive.check(t0 + 20s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 24s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 25s, config, no_wall_clock), verdict::ping_timeout);
}

TEST(liveness, the_timeout_counts_from_the_first_unanswered_ping) {
  auto config = pings(10, 15);  // a second ping goes out before the timeout
  auto alive = started();
  EXPECT_EQ(alive.check(t0 + 10s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 20s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 24s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(t0 + 25s, config, no_wall_clock), verdict::ping_timeout);
}

TEST(liveness, an_interval_of_zero_turns_pings_off) {
  auto config = pings(0, 5);
  auto alive = started();
  EXPECT_EQ(alive.check(t0 + 1h, config, no_wall_clock), verdict::nothing);
}

TEST(liveness, a_token_expires_after_its_last_accepted_second) {
  auto config = pings(10, 5);
  liveness alive(std::int64_t{1'000'000});
  alive.start(t0);
  std::int64_t wall = 1'000'000;
  auto clock = [&] { return wall; };
  EXPECT_EQ(alive.check(t0 + 1s, config, clock), verdict::nothing);
  wall = 1'000'001;
  EXPECT_EQ(alive.check(t0 + 2s, config, clock), verdict::token_expired);
}

TEST(liveness, an_expired_token_is_answered_before_the_pings) {
  auto config = pings(10, 5);
  liveness alive(std::int64_t{1'000'000});
  alive.start(t0);
  EXPECT_EQ(alive.check(t0 + 10s, config, [] { return std::int64_t{1'000'000}; }), verdict::ping);
  EXPECT_EQ(alive.check(t0 + 15s, config, [] { return std::int64_t{2'000'000}; }),
            verdict::token_expired);
  // Expiry applies with pings off too.
  EXPECT_EQ(alive.check(t0 + 15s, pings(0, 5), [] { return std::int64_t{2'000'000}; }),
            verdict::token_expired);
}

// Times are kept as milliseconds modulo 2^32 (49.7 days): the clock passing that edge changes
// nothing.
TEST(liveness, works_across_the_wrap_of_its_32_bit_stamps) {
  auto config = pings(10, 5);
  const liveness::clock::time_point edge{std::chrono::milliseconds(std::int64_t{1} << 32)};
  liveness alive(std::nullopt);
  alive.start(edge - 3s);
  EXPECT_EQ(alive.check(edge + 6s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(edge + 7s, config, no_wall_clock), verdict::ping);
  EXPECT_EQ(alive.check(edge + 11s, config, no_wall_clock), verdict::nothing);
  EXPECT_EQ(alive.check(edge + 12s, config, no_wall_clock), verdict::ping_timeout);
}

TEST(liveness, a_token_expiring_past_2106_counts_as_expiring_then) {
  auto config = pings(0, 0);
  liveness alive(std::int64_t{1} << 40);
  alive.start(t0);
  EXPECT_EQ(alive.check(t0, config, [] { return std::int64_t{4'000'000'000}; }), verdict::nothing);
  EXPECT_EQ(alive.check(t0, config, [] { return std::int64_t{1} << 33; }), verdict::token_expired);
}
