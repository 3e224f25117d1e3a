// RFC 6455 section 5.4: fragmentation.
#include "server_fixture.hpp"

namespace conformance {
namespace {

using fragmentation = conformance_test;

frame_options more() {
  frame_options o;
  o.fin = false;
  return o;
}

TEST_F(fragmentation, text_in_three_fragments_is_one_message) {
  auto client = open_client();
  std::string message = ping_request("three", 200);
  client.send_frame(op_text, message.substr(0, 50), more());
  client.send_frame(op_continuation, message.substr(50, 100), more());
  client.send_frame(op_continuation, message.substr(150));
  expect_pong(client, "three");
}

TEST_F(fragmentation, binary_in_fragments_is_one_message) {
  auto client = open_client();
  std::string message = std::string("\x00\x02{}", 4) + "payload";
  client.send_frame(op_binary, message.substr(0, 1), more());
  client.send_frame(op_continuation, message.substr(1, 3), more());
  client.send_frame(op_continuation, message.substr(4));
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->payload.find(R"("type":"error")"), std::string::npos) << reply->payload;
  expect_served(client);
}

TEST_F(fragmentation, a_fragment_per_byte) {
  auto client = open_client();
  std::string message = ping_request("bytes");
  for (std::size_t i = 0; i < message.size(); ++i) {
    frame_options o;
    o.fin = i + 1 == message.size();
    client.send_frame(i == 0 ? op_text : op_continuation, message.substr(i, 1), o);
  }
  expect_pong(client, "bytes");
}

// 5.4: "Control frames MAY be injected in the middle of a fragmented message." The ping is
// answered right away, while the message is still incomplete.
TEST_F(fragmentation, ping_between_fragments_is_answered_in_between) {
  auto client = open_client();
  std::string message = ping_request("inter", 100);
  client.send_frame(op_text, message.substr(0, 30), more());
  client.send_frame(op_ping, "between-1");
  auto pong = client.read_frame();
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->opcode, op_pong);
  EXPECT_EQ(pong->payload, "between-1");

  client.send_frame(op_continuation, message.substr(30, 30), more());
  client.send_frame(op_ping, "between-2");
  client.send_frame(op_pong, "unsolicited");
  pong = client.read_frame();
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->opcode, op_pong);
  EXPECT_EQ(pong->payload, "between-2");

  client.send_frame(op_continuation, message.substr(60));
  expect_pong(client, "inter");
}

// 5.4: a continuation frame (opcode 0) must follow a non-final text or binary frame.
TEST_F(fragmentation, continuation_without_start_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_continuation, ping_request("orphan"));
  expect_failed_with(client, 1002);
  EXPECT_EQ(client.data_frames_skipped(), 0);
}

TEST_F(fragmentation, non_final_continuation_without_start_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_continuation, "abc", more());
  expect_failed_with(client, 1002);
}

TEST_F(fragmentation, continuation_after_a_complete_message_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_text, ping_request("done"));
  client.send_frame(op_continuation, "more");
  expect_failed_with(client, 1002);
  EXPECT_EQ(client.data_frames_skipped(), 1) << "the complete message should be answered first";
}

// 5.4: "the fragments of one message MUST NOT be interleaved between the fragments of another".
TEST_F(fragmentation, new_text_inside_a_fragmented_message_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_text, R"({"type":)", more());
  client.send_frame(op_text, ping_request("nested"));
  expect_failed_with(client, 1002);
  EXPECT_EQ(client.data_frames_skipped(), 0);
}

TEST_F(fragmentation, new_binary_inside_a_fragmented_text_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_text, R"({"type":)", more());
  client.send_frame(op_binary, "x", more());
  expect_failed_with(client, 1002);
}

// 8.1 and 5.6: UTF-8 is checked over the whole message, so a character may be split across
// fragments.
TEST_F(fragmentation, text_split_inside_a_utf8_character_is_accepted) {
  auto client = open_client();
  // cid "\xF0\x9F\x98\x80" (U+1F600) split after its second byte; "\xC3\xA9" (U+00E9) split too.
  std::string message = ping_request("\xF0\x9F\x98\x80-\xC3\xA9");
  std::size_t emoji = message.find('\xF0');
  std::size_t e_acute = message.find('\xC3');
  client.send_frame(op_text, message.substr(0, emoji + 2), more());
  client.send_frame(op_continuation, message.substr(emoji + 2, e_acute + 1 - (emoji + 2)), more());
  client.send_frame(op_continuation, message.substr(e_acute + 1));
  expect_pong(client, "\xF0\x9F\x98\x80-\xC3\xA9");
}

TEST_F(fragmentation, utf8_character_split_byte_by_byte_is_accepted) {
  auto client = open_client();
  std::string message = ping_request("\xF0\x9F\x98\x80");
  std::size_t emoji = message.find('\xF0');
  client.send_frame(op_text, message.substr(0, emoji + 1), more());
  client.send_frame(op_continuation, message.substr(emoji + 1, 1), more());
  client.send_frame(op_continuation, message.substr(emoji + 2, 1), more());
  client.send_frame(op_continuation, message.substr(emoji + 3));
  expect_pong(client, "\xF0\x9F\x98\x80");
}

TEST_F(fragmentation, zero_length_fragments_are_accepted) {
  auto client = open_client();
  std::string message = ping_request("zero");
  client.send_frame(op_text, "", more());
  client.send_frame(op_continuation, "", more());
  client.send_frame(op_continuation, message, more());
  client.send_frame(op_continuation, "", more());
  client.send_frame(op_continuation, "");
  expect_pong(client, "zero");
}

TEST_F(fragmentation, fragmented_message_of_zero_length_fragments_only) {
  auto client = open_client();
  client.send_frame(op_text, "", more());
  client.send_frame(op_continuation, "");
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->payload.find(R"("type":"error")"), std::string::npos) << reply->payload;
}

// protocol.md: a message may come in at most --max-message-fragments frames (1024 by default);
// the frame past that fails the connection with 1009 ("message too big", section 7.4.1), so an
// endless stream of empty continuations cannot hold it.
TEST_F(fragmentation, message_in_1024_fragments_is_served_and_a_1025th_fails_with_1009) {
  constexpr int default_max_fragments = 1024;
  auto client = open_client();
  std::string wire = encode_frame(op_text, ping_request("many"), more());
  for (int frame = 2; frame < default_max_fragments; ++frame)
    wire += encode_frame(op_continuation, "", more());
  wire += encode_frame(op_continuation, "");
  client.send(wire);
  expect_pong(client, "many");

  wire = encode_frame(op_text, "", more());
  for (int frame = 2; frame <= default_max_fragments + 1; ++frame)
    wire += encode_frame(op_continuation, "", more());
  client.send(wire);
  expect_failed_with(client, 1009);
  EXPECT_EQ(client.data_frames_skipped(), 0);
}

TEST_F(fragmentation, close_between_fragments_is_answered) {
  // A close may come in the middle of a fragmented message (5.4: control frames may be
  // injected); the unfinished message is dropped and the close echoed.
  auto client = open_client();
  client.send_frame(op_text, R"({"type":)", more());
  client.send_close(1000);
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1000);
  EXPECT_EQ(client.data_frames_skipped(), 0);
  EXPECT_TRUE(client.wait_eof());
}

}  // namespace
}  // namespace conformance
