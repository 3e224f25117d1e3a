// RFC 6455 section 5.2: base framing. Opcodes, reserved bits, payload length forms, masking.
#include "server_fixture.hpp"

namespace conformance {
namespace {

using framing = conformance_test;

// ---- opcodes

TEST_F(framing, text_frame_is_a_message) {
  auto client = open_client();
  client.send_frame(op_text, ping_request("t"));
  expect_pong(client, "t");
}

TEST_F(framing, binary_frame_is_a_message) {
  // A binary message without a valid header is answered (bad_request), not failed.
  auto client = open_client();
  client.send_frame(op_binary, std::string("\x00\x02{}", 4));
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->opcode, op_text);
  EXPECT_NE(reply->payload.find(R"("type":"error")"), std::string::npos) << reply->payload;
  expect_served(client);
}

class reserved_opcode : public conformance_test, public ::testing::WithParamInterface<int> {};

// Section 5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the
// WebSocket Connection_." 0x3-0x7 are reserved data opcodes, 0xB-0xF reserved control opcodes.
TEST_P(reserved_opcode, fails_with_1002) {
  auto client = open_client();
  client.send_frame(static_cast<std::uint8_t>(GetParam()), "x");
  expect_failed_with(client, 1002);
}

TEST_P(reserved_opcode, fails_with_1002_when_empty) {
  auto client = open_client();
  client.send_frame(static_cast<std::uint8_t>(GetParam()), "");
  expect_failed_with(client, 1002);
}

INSTANTIATE_TEST_SUITE_P(opcodes, reserved_opcode,
                         ::testing::Values(0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF),
                         [](const auto& info) {
                           char name[8];
                           std::snprintf(name, sizeof name, "op_%X", info.param);
                           return std::string(name);
                         });

// ---- reserved bits

class reserved_bits : public conformance_test, public ::testing::WithParamInterface<int> {};

// Section 5.2: RSV1-3 "MUST be 0 unless an extension is negotiated"; none is (Parley declines
// every extension), so a set bit fails the connection.
TEST_P(reserved_bits, on_text_fail_with_1002) {
  auto client = open_client();
  frame_options o;
  o.rsv = static_cast<std::uint8_t>(GetParam());
  client.send_frame(op_text, ping_request("r"), o);
  expect_failed_with(client, 1002);
  EXPECT_EQ(client.data_frames_skipped(), 0) << "the frame was handled";
}

TEST_P(reserved_bits, on_ping_fail_with_1002) {
  auto client = open_client();
  frame_options o;
  o.rsv = static_cast<std::uint8_t>(GetParam());
  client.send_frame(op_ping, "p", o);
  expect_failed_with(client, 1002);
}

INSTANTIATE_TEST_SUITE_P(bits, reserved_bits, ::testing::Values(4, 2, 1, 7), [](const auto& info) {
  return info.param == 4   ? std::string("rsv1")
         : info.param == 2 ? std::string("rsv2")
         : info.param == 1 ? std::string("rsv3")
                           : std::string("all");
});

// ---- payload lengths: 7-bit up to 125, 16-bit from 126 to 65535, 64-bit from 65536

struct length_case {
  std::size_t size;
  length_form form;
  const char* name;
};

class payload_length : public conformance_test,
                       public ::testing::WithParamInterface<length_case> {};

TEST_P(payload_length, message_is_received_whole) {
  auto client = open_client();
  frame_options o;
  o.form = GetParam().form;
  std::string payload = ping_request("len", GetParam().size);
  ASSERT_EQ(payload.size(), GetParam().size);
  client.send_frame(op_text, payload, o);
  expect_pong(client, "len");
}

INSTANTIATE_TEST_SUITE_P(edges, payload_length,
                         ::testing::Values(length_case{125, length_form::bits7, "b7_125"},
                                           length_case{126, length_form::bits16, "b16_126"},
                                           length_case{127, length_form::bits16, "b16_127"},
                                           length_case{65535, length_form::bits16, "b16_65535"},
                                           length_case{65536, length_form::bits64, "b64_65536"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(framing, empty_text_message_is_answered) {
  // An empty text message is valid framing; the chat layer answers it (bad_json).
  auto client = open_client();
  client.send_frame(op_text, "");
  auto reply = client.read_data_frame();
  ASSERT_TRUE(reply.has_value());
  EXPECT_NE(reply->payload.find(R"("type":"error")"), std::string::npos) << reply->payload;
}

TEST_F(framing, frame_sent_one_byte_at_a_time) {
  auto client = open_client();
  std::string wire = encode_frame(op_text, ping_request("slow", 300));
  for (char c : wire)
    client.send(std::string_view(&c, 1));
  expect_pong(client, "slow");
}

TEST_F(framing, many_frames_in_one_write) {
  auto client = open_client();
  std::string wire;
  for (int i = 0; i < 50; ++i)
    wire += encode_frame(op_text, ping_request("m" + std::to_string(i)));
  client.send(wire);
  for (int i = 0; i < 50; ++i)
    expect_pong(client, "m" + std::to_string(i));
}

// A server handles any number of messages: 64 messages of 8 KB in a row, each answered.
TEST_F(framing, many_large_messages_in_a_row) {
  auto client = open_client();
  for (int i = 0; i < 64; ++i) {
    std::string cid = "big" + std::to_string(i);
    client.send_frame(op_text, ping_request(cid, 8192));
    expect_pong(client, cid);
    if (HasFailure()) {
      ADD_FAILURE() << "message " << i << " of 64 was not answered";
      return;
    }
  }
}

// Section 5.2: "the most significant bit MUST be 0" in the 64-bit length.
TEST_F(framing, length_with_most_significant_bit_fails_with_1002) {
  auto client = open_client();
  frame_options o;
  o.form = length_form::bits64;
  o.declared_length = std::uint64_t{1} << 63;
  client.send_frame(op_text, "", o);
  expect_failed_with(client, 1002);
}

TEST_F(framing, all_ones_length_fails_with_1002) {
  auto client = open_client();
  frame_options o;
  o.form = length_form::bits64;
  o.declared_length = ~std::uint64_t{0};
  client.send_frame(op_binary, "", o);
  expect_failed_with(client, 1002);
}

// Section 7.4.1 (1009) and protocol.md: a message over --max-binary-bytes is refused from its
// header, before its payload is sent.
TEST_F(framing, huge_declared_length_fails_with_1009_unread) {
  auto client = open_client();
  frame_options o;
  o.form = length_form::bits64;
  o.declared_length = std::uint64_t{1} << 40;
  client.send_frame(op_binary, "", o);
  expect_failed_with(client, 1009);
}

// ---- masking

// Section 5.1: "The server MUST close the connection upon receiving a frame that is not masked"
// (section 7.4.1 gives 1002 for protocol errors).
TEST_F(framing, unmasked_text_fails_with_1002) {
  auto client = open_client();
  frame_options o;
  o.masked = false;
  client.send_frame(op_text, ping_request("u"), o);
  expect_failed_with(client, 1002);
  EXPECT_EQ(client.data_frames_skipped(), 0) << "the unmasked frame was handled";
}

TEST_F(framing, unmasked_ping_fails_with_1002) {
  auto client = open_client();
  frame_options o;
  o.masked = false;
  client.send_frame(op_ping, "p", o);
  expect_failed_with(client, 1002);
}

TEST_F(framing, unmasked_close_fails_with_1002) {
  auto client = open_client();
  frame_options o;
  o.masked = false;
  client.send_frame(op_close, close_payload(1000), o);
  expect_failed_with(client, 1002);
}

TEST_F(framing, zero_mask_key_is_a_valid_mask) {
  auto client = open_client();
  frame_options o;
  o.mask = {0, 0, 0, 0};
  client.send_frame(op_text, ping_request("z"), o);
  expect_pong(client, "z");
}

TEST_F(framing, server_frames_are_unmasked_and_minimal) {
  auto client = open_client();
  client.send_frame(op_text, ping_request("s"));
  auto reply = client.read_frame();
  ASSERT_TRUE(reply.has_value()) << "no frame, or a masked one";
  EXPECT_TRUE(reply->fin);
  EXPECT_EQ(reply->rsv, 0);
  EXPECT_FALSE(reply->masked);
}

}  // namespace
}  // namespace conformance
