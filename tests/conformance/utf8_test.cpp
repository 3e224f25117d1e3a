// RFC 6455 section 8.1 (text is UTF-8, RFC 3629) and 7.4.1 (1007 for data inconsistent with
// the message type): invalid UTF-8 in a text message fails the connection with 1007.
#include "server_fixture.hpp"

namespace conformance {
namespace {

struct utf8_case {
  const char* name;
  std::string bytes;
};

std::string b(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

class invalid_utf8 : public conformance_test, public ::testing::WithParamInterface<utf8_case> {};

// The bad bytes inside an otherwise valid JSON request: only UTF-8 can be blamed.
std::string wrap(const std::string& bad) {
  return R"({"type":"ping","cid":"x)" + bad + R"("})";
}

TEST_P(invalid_utf8, in_one_frame_fails_with_1007) {
  auto client = open_client();
  client.send_frame(op_text, wrap(GetParam().bytes));
  expect_failed_with(client, 1007);
  EXPECT_EQ(client.data_frames_skipped(), 0) << "the message was handled";
}

TEST_P(invalid_utf8, alone_fails_with_1007) {
  auto client = open_client();
  client.send_frame(op_text, GetParam().bytes);
  expect_failed_with(client, 1007);
}

TEST_P(invalid_utf8, in_fragments_fails_with_1007) {
  auto client = open_client();
  std::string message = wrap(GetParam().bytes);
  frame_options more;
  more.fin = false;
  std::size_t half = message.size() / 2;
  client.send_frame(op_text, message.substr(0, half), more);
  client.send_frame(op_continuation, message.substr(half));
  expect_failed_with(client, 1007);
}

INSTANTIATE_TEST_SUITE_P(
    sequences, invalid_utf8,
    ::testing::Values(
        // Bytes that never appear in UTF-8.
        utf8_case{"byte_FF", b({0xFF})}, utf8_case{"byte_FE", b({0xFE})},
        utf8_case{"byte_C0", b({0xC0})}, utf8_case{"byte_F5", b({0xF5, 0x80, 0x80, 0x80})},
        // A continuation byte with no lead, and leads with no continuation.
        utf8_case{"lone_continuation", b({0x80})},
        utf8_case{"lone_continuation_BF", b({0x41, 0xBF, 0x41})},
        utf8_case{"lead_then_ascii", b({0xC3, 0x41})},
        utf8_case{"three_byte_lead_cut", b({0xE2, 0x82, 0x41})},
        utf8_case{"four_byte_lead_cut", b({0xF0, 0x9F, 0x98, 0x41})},
        // Overlong forms of '/' (U+002F) and of the last 1-, 2- and 3-byte code points.
        utf8_case{"overlong_2_byte_slash", b({0xC0, 0xAF})},
        utf8_case{"overlong_3_byte_slash", b({0xE0, 0x80, 0xAF})},
        utf8_case{"overlong_4_byte_slash", b({0xF0, 0x80, 0x80, 0xAF})},
        utf8_case{"overlong_C1_BF", b({0xC1, 0xBF})},
        utf8_case{"overlong_E0_9F_BF", b({0xE0, 0x9F, 0xBF})},
        utf8_case{"overlong_F0_8F_BF_BF", b({0xF0, 0x8F, 0xBF, 0xBF})},
        utf8_case{"overlong_nul", b({0xC0, 0x80})},
        // UTF-16 surrogates encoded as UTF-8 (U+D800, U+DBFF, U+DC00, U+DFFF, a pair).
        utf8_case{"surrogate_D800", b({0xED, 0xA0, 0x80})},
        utf8_case{"surrogate_DBFF", b({0xED, 0xAF, 0xBF})},
        utf8_case{"surrogate_DC00", b({0xED, 0xB0, 0x80})},
        utf8_case{"surrogate_DFFF", b({0xED, 0xBF, 0xBF})},
        utf8_case{"surrogate_pair", b({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})},
        // Code points past U+10FFFF.
        utf8_case{"past_10FFFF_F4_90", b({0xF4, 0x90, 0x80, 0x80})},
        utf8_case{"past_10FFFF_F7_BF", b({0xF7, 0xBF, 0xBF, 0xBF})},
        utf8_case{"five_byte_form", b({0xF8, 0x88, 0x80, 0x80, 0x80})},
        utf8_case{"six_byte_form", b({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})}),
    [](const auto& info) { return std::string(info.param.name); });

using utf8 = conformance_test;

TEST_F(utf8, truncated_character_at_the_end_of_the_message_fails_with_1007) {
  auto client = open_client();
  client.send_frame(op_text, R"({"type":"ping"})" + b({0xE2, 0x82}));
  expect_failed_with(client, 1007);
}

TEST_F(utf8, truncated_character_at_the_end_of_the_last_fragment_fails_with_1007) {
  auto client = open_client();
  frame_options more;
  more.fin = false;
  client.send_frame(op_text, R"({"type":"ping"})", more);
  client.send_frame(op_continuation, b({0xF0, 0x9F, 0x98}));
  expect_failed_with(client, 1007);
}

// The server fails fast: a bad first fragment fails the connection before the message ends.
TEST_F(utf8, invalid_first_fragment_fails_before_the_message_ends) {
  auto client = open_client();
  frame_options more;
  more.fin = false;
  client.send_frame(op_text, R"({"type":"ping","cid":")" + b({0xC0, 0xAF}), more);
  expect_failed_with(client, 1007);
}

TEST_F(utf8, binary_message_is_not_checked_for_utf8) {
  auto client = open_client();
  client.send_frame(op_binary, b({0x00, 0x02, '{', '}', 0xFF, 0xC0, 0xED, 0xA0, 0x80}));
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->payload.find(R"("type":"error")"), std::string::npos) << reply->payload;
}

struct valid_case {
  const char* name;
  std::string chars;
};

class valid_utf8 : public conformance_test, public ::testing::WithParamInterface<valid_case> {};

TEST_P(valid_utf8, is_accepted_and_echoed) {
  auto client = open_client();
  client.send_frame(op_text, ping_request(GetParam().chars));
  expect_pong(client, GetParam().chars);
}

INSTANTIATE_TEST_SUITE_P(
    characters, valid_utf8,
    ::testing::Values(valid_case{"two_byte_U_0080", b({0xC2, 0x80})},
                      valid_case{"two_byte_U_07FF", b({0xDF, 0xBF})},
                      valid_case{"three_byte_U_0800", b({0xE0, 0xA0, 0x80})},
                      valid_case{"three_byte_U_D7FF", b({0xED, 0x9F, 0xBF})},
                      valid_case{"three_byte_U_E000", b({0xEE, 0x80, 0x80})},
                      valid_case{"three_byte_U_FFFD", b({0xEF, 0xBF, 0xBD})},
                      valid_case{"three_byte_U_FFFF", b({0xEF, 0xBF, 0xBF})},
                      valid_case{"four_byte_U_10000", b({0xF0, 0x90, 0x80, 0x80})},
                      valid_case{"four_byte_U_1F600", b({0xF0, 0x9F, 0x98, 0x80})},
                      valid_case{"four_byte_U_10FFFF", b({0xF4, 0x8F, 0xBF, 0xBF})},
                      valid_case{"mixed", "\x4B\xC3\xA9\xE2\x82\xAC\xF0\x9D\x84\x9E"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace conformance
