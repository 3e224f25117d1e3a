// RFC 6455 sections 5.5.2 and 5.5.3: ping and pong.
#include "server_fixture.hpp"

namespace conformance {
namespace {

using ping_pong = conformance_test;

// Reads frames up to the first pong (skipping data frames), or nullopt.
std::optional<server_frame> read_pong(frame_client& client) {
  for (;;) {
    auto f = client.read_frame();
    if (!f || f->opcode == op_close) return std::nullopt;
    if (f->opcode == op_pong) return f;
  }
}

// 5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in response" and
// 5.5.3: "A Pong frame sent in response to a Ping frame must have identical Application data".
TEST_F(ping_pong, ping_is_answered_with_its_payload) {
  auto client = open_client();
  client.send_frame(op_ping, "hello");
  auto pong = read_pong(client);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->payload, "hello");
  EXPECT_TRUE(pong->fin);
}

TEST_F(ping_pong, empty_ping_is_answered_with_an_empty_pong) {
  auto client = open_client();
  client.send_frame(op_ping, "");
  auto pong = read_pong(client);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->payload, "");
}

TEST_F(ping_pong, binary_ping_payload_is_echoed_byte_for_byte) {
  auto client = open_client();
  std::string payload;
  for (int i = 0; i < 125; ++i)
    payload.push_back(static_cast<char>(255 - i));
  client.send_frame(op_ping, payload);
  auto pong = read_pong(client);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->payload, payload);
}

TEST_F(ping_pong, ping_of_125_bytes_is_answered) {
  auto client = open_client();
  std::string payload(125, 'p');
  client.send_frame(op_ping, payload);
  auto pong = read_pong(client);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->payload, payload);
}

// 5.5: "All control frames MUST have a payload length of 125 bytes or less".
TEST_F(ping_pong, ping_of_126_bytes_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_ping, std::string(126, 'p'));
  expect_failed_with(client, 1002);
}

TEST_F(ping_pong, ping_with_a_16_bit_length_under_126_fails_or_is_answered) {
  // A non-minimal length form is not a control-frame size violation: 5 bytes in a 16-bit
  // length. The RFC says the minimal form MUST be used; a server may fail it (1002) or answer.
  auto client = open_client();
  frame_options o;
  o.form = length_form::bits16;
  client.send_frame(op_ping, "abcde", o);
  auto f = client.read_frame();
  ASSERT_TRUE(f.has_value());
  if (f->opcode == op_close) {
    ASSERT_GE(f->payload.size(), 2u);
    EXPECT_EQ(
        (static_cast<std::uint8_t>(f->payload[0]) << 8) | static_cast<std::uint8_t>(f->payload[1]),
        1002);
    client.send_close(1002);
    EXPECT_TRUE(client.wait_eof());
  } else {
    EXPECT_EQ(f->opcode, op_pong);
    EXPECT_EQ(f->payload, "abcde");
  }
}

TEST_F(ping_pong, pong_of_126_bytes_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_pong, std::string(126, 'p'));
  expect_failed_with(client, 1002);
}

// 5.5: "Control frames themselves MUST NOT be fragmented."
TEST_F(ping_pong, fragmented_ping_fails_with_1002) {
  auto client = open_client();
  frame_options first;
  first.fin = false;
  client.send_frame(op_ping, "frag", first);
  client.send_frame(op_continuation, "ment");
  expect_failed_with(client, 1002);
}

// 5.5.3: "A Pong frame MAY be sent unsolicited ... A response to an unsolicited Pong frame is
// not expected."
TEST_F(ping_pong, unsolicited_pong_is_ignored) {
  auto client = open_client();
  client.send_frame(op_pong, "unsolicited");
  client.send_frame(op_pong, "");
  EXPECT_TRUE(client.nothing_arrives(std::chrono::milliseconds(300)));
  expect_served(client);
}

// 5.5.3: an endpoint may answer only the most recent of several pings, but must answer.
TEST_F(ping_pong, several_pings_are_answered) {
  auto client = open_client();
  for (int i = 0; i < 10; ++i)
    client.send_frame(op_ping, "p" + std::to_string(i));
  auto last = std::string();
  for (int i = 0; i < 10; ++i) {
    auto pong = read_pong(client);
    ASSERT_TRUE(pong.has_value()) << "after " << i << " pongs";
    last = pong->payload;
    if (last == "p9") break;
  }
  EXPECT_EQ(last, "p9");
}

}  // namespace
}  // namespace conformance
