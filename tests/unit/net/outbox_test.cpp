#include "parley/net/outbox.hpp"

#include <gtest/gtest.h>

#include <string>

using parley::net::gathered_buffers;
using parley::net::outbox;
using parley::net::server_config;
using parley::protocol::make_frame_copy;
using parley::protocol::opcode;
using parley::protocol::shared_frame;
using verdict = outbox::verdict;
using namespace std::chrono_literals;

namespace {

const outbox::clock::time_point t0{100s};

// Hard limit 1,000 bytes (messages of at most 100, so no floor raises it), soft 500 for 10 s.
server_config limits() {
  server_config config;
  config.max_text_bytes = 100;
  config.max_binary_bytes = 100;
  config.max_outbox_bytes = 1000;
  config.outbox_soft_bytes = 500;
  config.outbox_soft_seconds = 10;
  return config;
}

// A binary frame of exactly `size` bytes on the wire (header: 2 bytes for payloads under 126,
// else 4).
shared_frame frame_of(std::size_t size, char fill = 'x') {
  std::size_t header = size - 2 < 126 ? 2 : 4;
  auto f = make_frame_copy(opcode::binary, std::string(size - header, fill));
  EXPECT_EQ(f->size(), size);
  return f;
}

// What one write call would be given now.
std::string gathered(const outbox& box) {
  gathered_buffers buffers;
  box.gather(buffers);
  std::string out;
  for (const auto& b : buffers)
    out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

std::string wire(const shared_frame& f, std::size_t skip = 0) {
  return std::string(f->bytes().substr(skip));
}

}  // namespace

TEST(outbox, an_idle_outbox_is_empty_and_holds_its_first_frames_inline) {
  outbox box;
  EXPECT_TRUE(box.empty());
  EXPECT_EQ(box.bytes(), 0u);
  EXPECT_EQ(gathered(box), "");
  // Sizes on x86-64 with libstdc++ (Debian 12): RSS per idle connection is a published figure.
  if (sizeof(void*) == 8) {
    EXPECT_EQ(sizeof(outbox), 64u);
  }
}

TEST(outbox, over_the_hard_limit_is_answered_at_once) {
  auto config = limits();
  outbox box;
  EXPECT_EQ(box.push(frame_of(400), config), verdict::within);
  EXPECT_EQ(box.push(frame_of(400), config), verdict::soft_crossed);  // 800 > 500
  box.over_soft_from(t0);
  EXPECT_EQ(box.push(frame_of(200), config), verdict::within);  // 1,000: at the limit, not over
  EXPECT_EQ(box.push(frame_of(3), config), verdict::over_hard);
  EXPECT_EQ(box.bytes(), 1003u);

  outbox other;
  other.push_final(frame_of(10));
  EXPECT_EQ(other.push(frame_of(1001), config), verdict::over_hard);  // one big frame alone
}

TEST(outbox, the_hard_limit_is_never_below_two_of_the_largest_messages) {
  auto config = limits();
  config.max_binary_bytes = 800;  // floor: 1,600
  outbox box;
  box.over_soft_from(t0);
  EXPECT_EQ(box.push(frame_of(802), config), verdict::within);
  EXPECT_EQ(box.push(frame_of(798), config), verdict::within);
  EXPECT_EQ(box.push(frame_of(3), config), verdict::over_hard);
}

TEST(outbox, the_soft_limit_closes_only_when_passed_for_too_long) {
  auto config = limits();
  outbox box;
  EXPECT_EQ(box.push(frame_of(600), config), verdict::soft_crossed);
  // Until the session starts the clock, every push says so again.
  EXPECT_EQ(box.push(frame_of(10), config), verdict::soft_crossed);
  box.over_soft_from(t0);
  EXPECT_EQ(box.push(frame_of(10), config), verdict::within);
  EXPECT_EQ(box.check(t0 + 5s, config), verdict::within);
  EXPECT_EQ(box.check(t0 + 10s, config), verdict::within);  // exactly the allowed time
  EXPECT_EQ(box.check(t0 + 10s + 1ns, config), verdict::soft_too_long);
}

TEST(outbox, the_check_starts_the_clock_itself_and_stops_it_under_the_soft_limit) {
  auto config = limits();
  outbox box;
  box.push_final(frame_of(600));  // over the soft limit, no clock started
  EXPECT_EQ(box.check(t0, config), verdict::within);
  EXPECT_EQ(box.check(t0 + 10s + 1ns, config), verdict::soft_too_long);

  box.written(200);  // 400 left: under again
  EXPECT_EQ(box.check(t0 + 11s, config), verdict::within);
  EXPECT_EQ(box.push(frame_of(200), config), verdict::soft_crossed);  // the clock was stopped
  EXPECT_EQ(box.check(t0 + 12s, config), verdict::within);
  EXPECT_EQ(box.check(t0 + 22s, config), verdict::within);
  EXPECT_EQ(box.check(t0 + 22s + 1ns, config), verdict::soft_too_long);
}

TEST(outbox, a_partial_write_resumes_where_the_socket_stopped) {
  auto config = limits();
  outbox box;
  auto a = frame_of(100, 'a');
  auto b = frame_of(50, 'b');
  box.push(a, config);
  box.push(b, config);
  EXPECT_EQ(gathered(box), wire(a) + wire(b));

  box.written(30);
  EXPECT_EQ(box.bytes(), 120u);
  EXPECT_EQ(gathered(box), wire(a, 30) + wire(b));

  box.written(80);  // the rest of a and 10 bytes of b
  EXPECT_EQ(box.bytes(), 40u);
  EXPECT_FALSE(box.empty());
  EXPECT_EQ(gathered(box), wire(b, 10));

  box.written(40);
  EXPECT_TRUE(box.empty());
  EXPECT_EQ(box.bytes(), 0u);
  EXPECT_EQ(gathered(box), "");
}

TEST(outbox, one_write_gathers_at_most_the_buffers_a_call_takes) {
  auto config = limits();
  config.max_outbox_bytes = 100'000;
  outbox box;
  for (std::size_t i = 0; i < parley::net::max_buffers_per_write + 6; ++i)
    box.push(frame_of(3), config);
  gathered_buffers buffers;
  box.gather(buffers);
  EXPECT_EQ(buffers.size(), parley::net::max_buffers_per_write);
  EXPECT_EQ(box.bytes(), 3 * (parley::net::max_buffers_per_write + 6));
}

TEST(outbox, drop_unsent_keeps_a_frame_begun_so_the_close_frame_follows_it) {
  auto config = limits();
  outbox box;
  auto a = frame_of(100, 'a');
  auto b = frame_of(100, 'b');
  auto c = frame_of(100, 'c');
  box.push(a, config);
  box.push(b, config);
  box.push(c, config);
  box.written(105);  // a and 5 bytes of b

  box.drop_unsent();
  EXPECT_EQ(box.bytes(), 95u);
  EXPECT_EQ(gathered(box), wire(b, 5));

  auto close = make_frame_copy(opcode::close, "\x0f\xa8");
  box.push_final(close);
  EXPECT_EQ(gathered(box), wire(b, 5) + wire(close));
}

TEST(outbox, drop_unsent_with_nothing_begun_drops_everything) {
  auto config = limits();
  outbox box;
  box.push(frame_of(100), config);
  box.push(frame_of(100), config);
  box.drop_unsent();
  EXPECT_TRUE(box.empty());
  EXPECT_EQ(box.bytes(), 0u);
}

TEST(outbox, the_final_frame_goes_in_whatever_the_limits) {
  auto config = limits();
  outbox box;
  box.push(frame_of(1000), config);
  box.push_final(frame_of(100));
  EXPECT_EQ(box.bytes(), 1100u);
}

TEST(outbox, clear_forgets_everything_and_stops_the_soft_clock) {
  auto config = limits();
  outbox box;
  box.push(frame_of(600), config);
  box.over_soft_from(t0);
  box.written(10);
  box.clear();
  EXPECT_TRUE(box.empty());
  EXPECT_EQ(box.bytes(), 0u);
  EXPECT_EQ(box.push(frame_of(600), config), verdict::soft_crossed);
  EXPECT_EQ(gathered(box).size(), 600u);
}

// A reader that never quite catches up: the queue never empties, so clear() never runs, yet
// the stream stays whole and in order across the reclaiming of sent slots.
TEST(outbox, a_queue_that_never_empties_keeps_its_order_while_sent_slots_are_reclaimed) {
  auto config = limits();
  outbox box;
  std::string sent, expected;
  char fill = 'a';
  for (int round = 0; round < 5000; ++round) {
    for (int i = 0; i < 3; ++i) {
      auto f = frame_of(10, fill);
      fill = fill == 'z' ? 'a' : static_cast<char>(fill + 1);
      expected += wire(f);
      ASSERT_EQ(box.push(std::move(f), config), verdict::within);
    }
    // Writes all but the last 5 bytes of what is queued: one frame always stays unfinished.
    std::string now = gathered(box);
    std::size_t n = std::min(now.size(), box.bytes()) - 5;
    sent += now.substr(0, n);
    box.written(n);
    ASSERT_FALSE(box.empty());
    ASSERT_EQ(box.bytes(), 5u);
  }
  sent += gathered(box);
  EXPECT_EQ(sent, expected);
}
