// Slow readers (protocol.md "Limits"): a connection that does not read while it is flooded is
// closed with 4008, its partners get `left`; the sender keeps getting acks and other clients
// are not slowed down.
#include "chat_test.hpp"

#include <cstdio>

namespace parley::it {
namespace {

constexpr int small_rcvbuf = 4096;  // keeps the frozen reader from hiding data in the kernel

class slow_reader : public chat_test {
 protected:
  static void TearDownTestSuite() { stop_server(); }
  void TearDown() override { stop_server(); }

  struct outcome {
    bool left = false;
    double left_after_ms = 0;  // since the flood started
    double flood_ms = 0;       // how long the sending went on
    int sent = 0;              // the flood stops at `left`, possibly before max_messages
    int acked = 0;
    int offline = 0;
    double worst_chat_ms = 0;  // third party round trips during the flood
  };

  // Floods `slow` from a new client in batches until `left` for it arrives (or `limit`);
  // between batches a third pair of clients exchanges a message.
  outcome flood(const std::string& slow, std::size_t text_bytes, int max_messages,
                ms pause_between_batches, ms limit) {
    outcome o;
    auto sender = connect(unique_id("sender"));
    const std::string d = unique_id("d");
    auto c = connect(unique_id("c")), dd = connect(d);
    const std::string head = R"({"type":"msg","to":")" + slow + R"(","text":")" +
                             std::string(text_bytes, 'f') + R"(","cid":"f)";
    auto t0 = steady::now();
    int sent = 0;
    while (!o.left && sent < max_messages && ms_since(t0) < limit.count()) {
      const int batch = 10;
      for (int i = 0; i < batch; ++i, ++sent)
        sender->send_text(head + std::to_string(sent) + "\"}");
      for (int replies = 0; replies < batch;) {
        auto m = sender->read_json();
        if (type_of(m) == "left") {
          EXPECT_EQ(str(m, "id"), slow);
          if (!o.left) o.left_after_ms = ms_since(t0);
          o.left = true;
          continue;
        }
        ++replies;
        if (type_of(m) == "ack") {
          EXPECT_EQ(str(m, "status"), "delivered");
          ++o.acked;
        } else if (str(m, "code") == "offline") {
          ++o.offline;
        } else {
          ADD_FAILURE() << "unexpected reply to a flood message: " << to_string(m);
        }
      }
      // A third client keeps chatting at full speed.
      auto t1 = steady::now();
      send_msg(*c, d, "still fast?", "x");
      EXPECT_EQ(str(dd->read_json(), "text"), "still fast?");
      o.worst_chat_ms = std::max(o.worst_chat_ms, ms_since(t1));
      if (pause_between_batches.count()) sender->expect_nothing(pause_between_batches);
    }
    o.flood_ms = ms_since(t0);
    o.sent = sent;
    if (!o.left) {
      auto m = sender->read_json(ms{5000});
      EXPECT_EQ(type_of(m), "left") << to_string(m);
      o.left = type_of(m) == "left";
      o.left_after_ms = ms_since(t0);
    }
    return o;
  }

  void check_close_code(raw_client& r) {
    auto code = r.read_until_close(ms{3000});
    if (code) {
      EXPECT_EQ(*code, 4008);
    } else {
      std::printf("[note] slow reader: TCP dropped without a readable close frame\n");
    }
  }
};

TEST_F(slow_reader, hard_limit_closes_4008_while_the_sender_keeps_going) {
  start_server({"--max-text-bytes", "16384", "--max-binary-bytes", "65536", "--max-outbox-bytes",
                "131072", "--outbox-soft-bytes", "32768", "--outbox-soft-seconds", "60"});
  const std::string slow = unique_id("slow");
  auto r = raw_ws(slow, small_rcvbuf);
  auto o = flood(slow, 8000, 3000, ms{0}, ms{20000});
  EXPECT_TRUE(o.left) << "the slow reader was never closed";
  EXPECT_GT(o.acked, 0);
  std::printf(
      "[measure] hard outbox limit: slow reader closed %.0f ms into the flood; %d acks, "
      "%d offline; worst third-party round trip %.1f ms\n",
      o.left_after_ms, o.acked, o.offline, o.worst_chat_ms);
  EXPECT_LT(o.worst_chat_ms, 1000.0) << "another client was slowed down";
  check_close_code(*r);
}

TEST_F(slow_reader, soft_limit_closes_4008_after_the_soft_seconds) {
  start_server({"--max-text-bytes", "16384", "--outbox-soft-bytes", "32768",
                "--outbox-soft-seconds", "0.5"});
  const std::string slow = unique_id("slow");
  auto r = raw_ws(slow, small_rcvbuf);
  // 400 x 16 KB: more than the kernel's socket buffers take (a few MB on loopback), far above
  // the soft limit, below the 16 MiB hard one; then stop sending.
  auto o = flood(slow, 16000, 400, ms{0}, ms{20000});
  EXPECT_TRUE(o.left) << "the slow reader was never closed";
  EXPECT_EQ(o.acked + o.offline, o.sent);  // every message answered, none lost
  std::printf(
      "[measure] soft outbox limit (0.5 s): flood of %d acks over %.0f ms; slow reader "
      "closed %.0f ms after the flood began; worst third-party round trip %.1f ms\n",
      o.acked, o.flood_ms, o.left_after_ms, o.worst_chat_ms);
  EXPECT_LT(o.left_after_ms, o.flood_ms + 3000.0)
      << "not closed within 3 s of staying above the soft limit (0.5 s)";
  EXPECT_LT(o.worst_chat_ms, 1000.0);
  check_close_code(*r);
}

TEST_F(slow_reader, a_reader_that_keeps_up_is_not_closed) {
  start_server({"--max-text-bytes", "16384", "--outbox-soft-bytes", "32768",
                "--outbox-soft-seconds", "0.5"});
  const std::string b = unique_id("b");
  auto a = connect(unique_id("a")), cb = connect(b);
  const std::string text(16000, 'k');
  for (int i = 0; i < 200; ++i) {
    a->send_json(obj({{"type", "msg"}, {"to", b}, {"text", text}}));
    ASSERT_EQ(str(cb->read_json(), "text").size(), text.size());
  }
  cb->expect_nothing(ms{800});
  EXPECT_FALSE(cb->closed());
  expect_usable(*cb);
}

}  // namespace
}  // namespace parley::it
