// Liveness (protocol.md): with --ping-interval 1 --ping-timeout 1, a client that never answers
// pings is closed and its partners get `left`; a client that answers every ping stays.
#include "chat_test.hpp"

#include <cstdio>
#include <thread>

namespace parley::it {
namespace {

class liveness : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--ping-interval", "1", "--ping-timeout", "1"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(liveness, frozen_client_is_closed_and_its_partner_gets_left) {
  const std::string frozen = unique_id("frozen");
  auto partner = connect(unique_id("partner"));
  // A raw socket that completes the upgrade and then never reads nor answers anything.
  auto r = raw_ws(frozen);
  auto t0 = steady::now();
  send_msg(*partner, frozen, "are you there?", "c1");
  auto left = partner->read_json(ms{8000});
  double detected = ms_since(t0);
  EXPECT_EQ(type_of(left), "left") << to_string(left);
  EXPECT_EQ(str(left, "id"), frozen);
  std::printf(
      "[measure] frozen client detected (left at its partner) %.0f ms after it froze "
      "(ping interval 1 s, timeout 1 s)\n",
      detected);
  RecordProperty("frozen_detection_ms", std::to_string(detected));
  // One interval for the ping to go out, one timeout for the pong, and some slack.
  EXPECT_LT(detected, 4000.0);
  EXPECT_GT(detected, 900.0) << "closed before a ping could have timed out";
  // What the frozen socket would have read: its welcome, the msg, pings, then a close frame
  // (4000, the server's ping-timeout code) unless the server dropped the TCP connection.
  auto code = r->read_until_close(ms{2000});
  if (code) {
    EXPECT_EQ(*code, 4000);
  } else {
    std::printf("[note] frozen socket: no close frame (TCP dropped)\n");
  }
}

TEST_F(liveness, client_answering_pings_stays_connected) {
  auto a = connect(unique_id("alive"));
  auto b = connect(unique_id("alive"));
  auto t0 = steady::now();
  // The client's loop answers each ping while the test waits; it sends nothing else.
  a->expect_nothing(ms{4500});
  EXPECT_FALSE(a->closed()) << "closed with " << a->close_code();
  EXPECT_FALSE(b->closed());
  EXPECT_GE(a->pings_received(), 3) << "server sent no pings every second";
  std::printf("[measure] answering client alive after %.0f ms, %d pings answered\n", ms_since(t0),
              a->pings_received());
  expect_usable(*a);
  expect_usable(*b);
}

TEST_F(liveness, any_frame_counts_as_alive) {
  // A client that never sends a pong but keeps sending other frames within each timeout.
  auto r = raw_ws(unique_id("chatty"));
  auto t0 = steady::now();
  while (ms_since(t0) < 4000) {
    r->send_frame(1, R"({"type":"ping"})");
    std::this_thread::sleep_for(ms{300});
  }
  // Read what came: pongs, pings, no close frame.
  bool closed = false;
  while (auto f = r->read_frame(ms{200}))
    closed |= f->opcode == 8;
  EXPECT_FALSE(closed) << "closed although it sent a frame every 300 ms";
  EXPECT_FALSE(r->eof());
}

}  // namespace
}  // namespace parley::it
