// RFC 6455 sections 5.5.1, 7.1 and 7.4: the closing handshake.
#include <thread>

#include "server_fixture.hpp"

namespace conformance {
namespace {

using close_handling = conformance_test;

class valid_close_code : public conformance_test, public ::testing::WithParamInterface<int> {};

// 5.5.1: "the endpoint MUST send a Close frame in response ... typically echoing the status
// code it received"; 7.1.1: the server then closes the TCP connection first.
TEST_P(valid_close_code, is_echoed_and_the_connection_closed) {
  auto client = open_client();
  auto code = static_cast<std::uint16_t>(GetParam());
  client.send_close(code, "bye");
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, code);
  EXPECT_TRUE(client.wait_eof()) << "the server kept the TCP connection open";
}

INSTANTIATE_TEST_SUITE_P(codes, valid_close_code,
                         ::testing::Values(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                           1012, 1013, 1014, 3000, 3999, 4000, 4999),
                         [](const auto& info) { return "code_" + std::to_string(info.param); });

class invalid_close_code : public conformance_test, public ::testing::WithParamInterface<int> {};

// 7.4.1/7.4.2: 0-999 are unused, 1004-1006 and 1015 must not be sent in a close frame,
// 1016-2999 are reserved for the protocol, 5000+ are undefined. Receiving one is a protocol
// error.
TEST_P(invalid_close_code, fails_with_1002) {
  auto client = open_client();
  client.send_close(static_cast<std::uint16_t>(GetParam()));
  expect_failed_with(client, 1002);
}

INSTANTIATE_TEST_SUITE_P(codes, invalid_close_code,
                         ::testing::Values(0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
                                           5000, 65535),
                         [](const auto& info) { return "code_" + std::to_string(info.param); });

// 5.5.1: a close frame may have no body; it is answered with a close frame.
TEST_F(close_handling, close_without_payload_is_answered) {
  auto client = open_client();
  client.send_frame(op_close, "");
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  // Either an empty close or 1000 (Parley answers 1000, docs/protocol.md).
  EXPECT_TRUE(close.code == 0 || close.code == 1000) << close.code;
  EXPECT_TRUE(client.wait_eof());
}

// 5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned
// integer": a 1-byte body is a protocol error.
TEST_F(close_handling, one_byte_close_payload_fails_with_1002) {
  auto client = open_client();
  client.send_frame(op_close, std::string(1, '\x03'));
  expect_failed_with(client, 1002);
}

TEST_F(close_handling, close_reason_of_123_bytes_is_accepted) {
  auto client = open_client();
  client.send_close(1000, std::string(123, 'r'));
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1000);
}

TEST_F(close_handling, close_payload_of_126_bytes_fails_with_1002) {
  auto client = open_client();
  client.send_close(1000, std::string(124, 'r'));
  expect_failed_with(client, 1002);
}

// 5.5.1: the reason is UTF-8; 7.4.1: 1007 for data inconsistent with its type.
TEST_F(close_handling, invalid_utf8_reason_fails_with_1007) {
  auto client = open_client();
  client.send_close(1000, std::string("ok\xC0\xAF", 4));
  expect_failed_with(client, 1007);
}

TEST_F(close_handling, surrogate_in_reason_fails_with_1007) {
  auto client = open_client();
  client.send_close(1000, std::string("\xED\xA0\x80", 3));
  expect_failed_with(client, 1007);
}

TEST_F(close_handling, valid_utf8_reason_is_accepted) {
  auto client = open_client();
  client.send_close(1000, "au revoir \xC3\xA9\xF0\x9F\x98\x80");
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1000);
}

TEST_F(close_handling, fragmented_close_fails_with_1002) {
  auto client = open_client();
  frame_options more;
  more.fin = false;
  client.send_frame(op_close, close_payload(1000), more);
  expect_failed_with(client, 1002);
}

// 1.4/5.5.1: after its close frame an endpoint sends no more data, and the server "MUST
// discard" (7.1.1 leaves it free to ignore) anything that arrives after the close: no answer.
TEST_F(close_handling, data_after_close_is_ignored) {
  auto client = open_client();
  std::string wire = encode_frame(op_close, close_payload(1000));
  wire += encode_frame(op_text, ping_request("after-close"));
  wire += encode_frame(op_ping, "after-close");
  client.send(wire);
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1000);
  EXPECT_EQ(client.data_frames_skipped(), 0) << "a message after the close was answered";
  EXPECT_TRUE(client.wait_eof());
}

// Replies to messages before the close come first (protocol.md), then the close.
TEST_F(close_handling, replies_before_the_close_frame_come_first) {
  auto client = open_client();
  std::string wire;
  for (int i = 0; i < 5; ++i)
    wire += encode_frame(op_text, ping_request("r" + std::to_string(i)));
  wire += encode_frame(op_close, close_payload(1000));
  client.send(wire);
  for (int i = 0; i < 5; ++i)
    expect_pong(client, "r" + std::to_string(i));
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1000);
}

// The client closes while the server is in the middle of writing a lot to it (the client does
// not read): every reply already queued is written whole, then the close frame, never a close
// frame inside another frame; then the server closes TCP.
TEST_F(close_handling, close_during_a_large_write) {
  const std::string id = "big-writer";
  auto client = open_client(id);
  const int messages = 24;
  std::string payload(60000, 'x');
  std::string wire;
  for (int i = 0; i < messages; ++i) {
    // A file to oneself comes back to the sending connection (docs/protocol.md), with an ack.
    std::string header = R"({"to":")" + id + R"(","cid":"m)" + std::to_string(i) + R"("})";
    std::string message;
    message.push_back(static_cast<char>(header.size() >> 8));
    message.push_back(static_cast<char>(header.size() & 0xFF));
    message += header + payload;
    wire += encode_frame(op_binary, message);
  }
  wire += encode_frame(op_close, close_payload(1000, "done"));
  client.send(wire);

  int copies = 0, acks = 0;
  for (;;) {
    auto f = client.read_frame(std::chrono::seconds(10));
    ASSERT_TRUE(f.has_value()) << "stream ended without a close after " << copies << " copies";
    ASSERT_TRUE(f->fin);
    if (f->opcode == op_close) {
      ASSERT_GE(f->payload.size(), 2u);
      EXPECT_EQ((static_cast<std::uint8_t>(f->payload[0]) << 8) |
                    static_cast<std::uint8_t>(f->payload[1]),
                1000);
      break;
    }
    if (f->opcode == op_binary) {
      EXPECT_GE(f->payload.size(), payload.size());
      EXPECT_EQ(f->payload.substr(f->payload.size() - payload.size()), payload);
      ++copies;
    } else {
      ASSERT_EQ(f->opcode, op_text);
      EXPECT_NE(f->payload.find(R"("type":"ack")"), std::string::npos) << f->payload;
      ++acks;
    }
  }
  EXPECT_EQ(copies, messages);
  EXPECT_EQ(acks, messages);
  EXPECT_TRUE(client.wait_eof());
}

// 7.1.1: "the underlying TCP connection, in most normal cases, SHOULD be closed first by the
// server". After the handshake the server closes without waiting for the client to.
TEST_F(close_handling, server_closes_tcp_after_the_close_handshake) {
  auto client = open_client();
  client.send_close(1000);
  auto close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_TRUE(client.wait_eof(std::chrono::seconds(3)));
}

// The server closes TCP even when the client answers a server-initiated close and then stays.
TEST_F(close_handling, server_closes_tcp_after_failing_the_connection) {
  auto client = open_client();
  client.send_frame(op_close, std::string(1, 'x'));
  close_result close = client.read_until_close();
  ASSERT_TRUE(close.received) << close.why;
  EXPECT_EQ(close.code, 1002);
  // No close reply from the client: the server still ends the TCP connection (bounded wait).
  EXPECT_TRUE(client.wait_eof(std::chrono::seconds(5)));
}

TEST_F(close_handling, tcp_end_without_close_frame_frees_the_connection) {
  {
    auto client = open_client("abrupt");
    frame_options more;
    more.fin = false;
    client.send_frame(op_text, R"({"type":"ping")", more);
  }  // destroyed: TCP closed mid-message
  auto watcher = open_client();
  watcher.send_frame(op_text, R"({"type":"who","cid":"w"})");
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto reply = watcher.read_data_frame();
    ASSERT_TRUE(reply.has_value());
    if (reply->payload.find("abrupt") == std::string::npos) return;  // gone
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    watcher.send_frame(op_text, R"({"type":"who","cid":"w"})");
  }
  ADD_FAILURE() << "the abruptly closed connection stayed online";
}

}  // namespace
}  // namespace conformance
