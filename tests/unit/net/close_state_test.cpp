#include "parley/net/close_state.hpp"

#include <gtest/gtest.h>

using parley::net::close_state;
using parley::protocol::close_code;
using namespace std::chrono_literals;

namespace {

const close_state::clock::time_point t0{100s};
const close_state::clock::time_point deadline = t0 + 2s;

std::uint16_t wire(close_code code) {
  return static_cast<std::uint16_t>(code);
}

}  // namespace

TEST(close_state, starts_open_and_reports_1006_until_a_close_frame) {
  close_state state;
  EXPECT_TRUE(state.open());
  EXPECT_FALSE(state.closing() || state.peer_closed() || state.finished() || state.deferred());
  EXPECT_EQ(state.code(), 1006);
  EXPECT_EQ(state.code_if_dropped(), 1006);
  // On x86-64 with libstdc++ (Debian 12): RSS per idle connection is a published figure.
  if (sizeof(void*) == 8) {
    EXPECT_EQ(sizeof(close_state), 16u);
  }
}

TEST(close_state, we_close_then_the_peer_answers) {
  close_state state;
  ASSERT_TRUE(state.begin(close_code::too_slow, deadline));
  EXPECT_TRUE(state.closing());
  EXPECT_FALSE(state.open());
  EXPECT_EQ(state.code(), 4008);
  EXPECT_EQ(state.code_if_dropped(), 4008);
  // A second reason to close changes nothing: one close frame.
  EXPECT_FALSE(state.begin(close_code::policy_violation, deadline));
  EXPECT_EQ(state.code(), 4008);

  EXPECT_EQ(state.on_peer_close(4008), close_code::too_slow);
  EXPECT_TRUE(state.peer_closed());
  EXPECT_EQ(state.code(), 4008);
  EXPECT_FALSE(state.answer(deadline));  // ours is already out
  EXPECT_TRUE(state.finish());
  EXPECT_TRUE(state.finished());
}

TEST(close_state, the_peers_code_is_reported_once_it_answers) {
  close_state state;
  ASSERT_TRUE(state.begin(close_code::going_away, deadline));
  state.on_peer_close(1000);
  EXPECT_EQ(state.code(), 1000);
  EXPECT_EQ(state.code_if_dropped(), 1000);
}

TEST(close_state, the_peer_closes_first_and_is_answered_with_its_own_code) {
  close_state state;
  EXPECT_EQ(state.on_peer_close(1001), close_code::going_away);
  EXPECT_TRUE(state.peer_closed());
  EXPECT_FALSE(state.closing());
  EXPECT_TRUE(state.open());
  EXPECT_EQ(state.code(), 1001);
  EXPECT_EQ(state.code_if_dropped(), 1001);

  ASSERT_TRUE(state.answer(deadline));
  EXPECT_TRUE(state.closing());
  EXPECT_EQ(state.code(), 1001);  // the answer keeps the peer's code
  EXPECT_FALSE(state.begin(close_code::policy_violation, deadline));
  EXPECT_EQ(state.code(), 1001);
}

TEST(close_state, a_close_without_a_code_is_answered_1000_and_reported_1005) {
  close_state state;
  EXPECT_EQ(state.on_peer_close(wire(close_code::no_status)), close_code::normal);
  EXPECT_EQ(state.code(), 1005);
}

TEST(close_state, a_deferred_answer_waits_for_the_store_then_goes) {
  close_state state;
  close_code reply = state.on_peer_close(1000);
  state.defer(reply, deadline);
  EXPECT_TRUE(state.deferred());
  EXPECT_TRUE(state.open());  // the store's answers still go out first
  EXPECT_FALSE(state.deferred_due(t0 + 1s));

  // The store is done before the deadline.
  EXPECT_EQ(state.take_deferred(), close_code::normal);
  EXPECT_FALSE(state.deferred());
  EXPECT_FALSE(state.deferred_due(deadline));
  ASSERT_TRUE(state.answer(t0 + 3s));
  EXPECT_TRUE(state.closing());
  EXPECT_EQ(state.code(), 1000);
  EXPECT_FALSE(state.overdue(t0 + 2s));
  EXPECT_TRUE(state.overdue(t0 + 3s));
}

TEST(close_state, a_deferred_answer_is_due_at_the_deadline) {
  close_state state;
  state.defer(state.on_peer_close(4000), deadline);
  EXPECT_FALSE(state.deferred_due(deadline - 1ns));
  EXPECT_TRUE(state.deferred_due(deadline));
  EXPECT_EQ(state.take_deferred(), close_code::ping_timeout);
  EXPECT_FALSE(state.deferred_due(deadline));
}

TEST(close_state, a_close_of_ours_while_an_answer_waits_reports_its_own_code) {
  // E.g. the token expires while the store still owes answers: our close frame goes, and the
  // waiting answer, once due, finds it already out.
  close_state state;
  state.defer(state.on_peer_close(1000), deadline);
  ASSERT_TRUE(state.begin(close_code::token_expired, t0 + 5s));
  EXPECT_EQ(state.code(), 4001);
  EXPECT_FALSE(state.deferred_due(deadline));  // one deadline: the handshake's now
  EXPECT_TRUE(state.deferred_due(t0 + 5s));
  EXPECT_EQ(state.take_deferred(), close_code::normal);
  EXPECT_FALSE(state.answer(t0 + 6s));
}

TEST(close_state, the_handshake_is_overdue_at_its_deadline) {
  close_state state;
  ASSERT_TRUE(state.begin(close_code::normal, deadline));
  EXPECT_FALSE(state.overdue(t0));
  EXPECT_FALSE(state.overdue(deadline - 1ns));
  EXPECT_TRUE(state.overdue(deadline));
}

TEST(close_state, finishing_happens_once_and_ends_everything) {
  close_state state;
  EXPECT_TRUE(state.finish());
  EXPECT_FALSE(state.finish());
  EXPECT_TRUE(state.finished());
  EXPECT_FALSE(state.open());
  EXPECT_FALSE(state.closing());
  EXPECT_EQ(state.code_if_dropped(), 1006);
  EXPECT_FALSE(state.begin(close_code::normal, deadline));
  EXPECT_FALSE(state.answer(deadline));
}
