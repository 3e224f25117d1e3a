// Per-connection rate limits: over --max-messages-per-second (bursts of 2 s) a message is
// answered `rate_limited` and not handled; --max-rate-strikes refusals in a row close the
// connection with 1008. Other clients are not affected.
#include "chat_test.hpp"

namespace parley::it {
namespace {

class rate_limit : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flags
  static void SetUpTestSuite() {
    start_server({"--max-messages-per-second", "5", "--max-rate-strikes", "20"});
  }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(rate_limit, over_the_burst_is_rate_limited_then_allowed_again) {
  auto c = connect(unique_id("a"));
  // The bucket holds 2 s of rate: 10 messages pass at once, the 11th does not.
  for (int i = 0; i < 11; ++i)
    c->send_text(R"({"type":"ping","cid":"p)" + std::to_string(i) + "\"}");
  for (int i = 0; i < 10; ++i) {
    auto pong = c->read_json();
    EXPECT_EQ(type_of(pong), "pong") << to_string(pong);
  }
  auto limited = c->read_json();
  EXPECT_EQ(type_of(limited), "error") << to_string(limited);
  EXPECT_EQ(str(limited, "code"), "rate_limited") << to_string(limited);
  // A moment later the bucket has refilled a little: the connection is usable again.
  c->expect_nothing(ms{500});
  c->send_text(R"({"type":"ping","cid":"later"})");
  auto pong = c->read_json();
  EXPECT_EQ(type_of(pong), "pong") << to_string(pong);
  EXPECT_EQ(str(pong, "cid"), "later");
}

TEST_F(rate_limit, sustained_flood_is_closed_with_1008_and_others_keep_chatting) {
  const std::string b = unique_id("b");
  auto other = connect(unique_id("other")), cb = connect(b);
  auto flooder = raw_ws(unique_id("flood"));
  for (int i = 0; i < 40; ++i)
    flooder->send_frame(1, R"({"type":"ping"})");
  int pongs = 0, limited = 0;
  std::optional<std::uint16_t> code;
  for (;;) {
    auto frame = flooder->read_frame(ms{3000});
    ASSERT_TRUE(frame) << "no close frame after the flood";
    if (frame->opcode == 8) {
      code = frame->close_code();
      break;
    }
    if (frame->payload.find("\"pong\"") != std::string::npos) ++pongs;
    if (frame->payload.find("rate_limited") != std::string::npos) ++limited;
  }
  EXPECT_EQ(code, 1008);
  EXPECT_EQ(pongs, 10);
  EXPECT_EQ(limited, 20);
  send_msg(*other, b, "unaffected", "u1");
}

}  // namespace
}  // namespace parley::it
