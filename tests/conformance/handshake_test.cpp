// RFC 6455 section 4: the opening handshake, as the server reads it (4.2.1, 4.2.2, 4.4).
#include "server_fixture.hpp"

namespace conformance {
namespace {

using handshake = conformance_test;

std::string request_with(const std::string& method, const std::string& version,
                         const std::string& headers) {
  return method + " /ws/hs " + version + "\r\nHost: 127.0.0.1\r\n" + headers + "\r\n";
}

const std::string upgrade_headers = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const std::string version13 = "Sec-WebSocket-Version: 13\r\n";

// The refused request was not upgraded: the server closes the connection after its answer.
void expect_refused(frame_client& client, const http_response& response, int status) {
  EXPECT_EQ(response.status, status) << response.head;
  EXPECT_TRUE(response.header("sec-websocket-accept").empty());
  EXPECT_TRUE(client.wait_eof()) << "connection left open after a refused upgrade";
}

TEST_F(handshake, valid_upgrade_is_accepted_with_the_rfc_accept_value) {
  auto client = connect_raw();
  auto response =
      client.request(request_with("GET", "HTTP/1.1", upgrade_headers + key + version13));
  ASSERT_EQ(response.status, 101) << response.head;
  // 4.2.2 and 1.3: the example key's accept value.
  EXPECT_EQ(response.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(response.header("upgrade").size(), 9u);  // "websocket", any case
  EXPECT_TRUE(response.header("sec-websocket-extensions").empty());
  auto welcome = client.read_data_frame();
  ASSERT_TRUE(welcome.has_value());
  expect_served(client);
}

TEST_F(handshake, header_names_and_tokens_are_case_insensitive) {
  auto client = connect_raw();
  auto response = client.request(
      request_with("GET", "HTTP/1.1",
                   "upgrade: WebSocket\r\nconnection: keep-alive, UPGRADE\r\n"
                   "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n"));
  ASSERT_EQ(response.status, 101) << response.head;
  EXPECT_EQ(response.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

// 4.2.1 item 5: a Sec-WebSocket-Key that is the base64 of 16 bytes; 4.2.2: otherwise 400.
TEST_F(handshake, missing_key_is_400) {
  auto client = connect_raw();
  auto response = client.request(request_with("GET", "HTTP/1.1", upgrade_headers + version13));
  expect_refused(client, response, 400);
}

TEST_F(handshake, duplicate_key_is_400) {
  auto client = connect_raw();
  auto response = client.request(request_with(
      "GET", "HTTP/1.1",
      upgrade_headers + key + "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n" + version13));
  expect_refused(client, response, 400);
}

TEST_F(handshake, short_key_is_400) {
  auto client = connect_raw();
  auto response = client.request(request_with(
      "GET", "HTTP/1.1", upgrade_headers + "Sec-WebSocket-Key: c2hvcnQ=\r\n" + version13));
  expect_refused(client, response, 400);
}

TEST_F(handshake, key_that_is_not_base64_is_400) {
  auto client = connect_raw();
  auto response = client.request(request_with(
      "GET", "HTTP/1.1",
      upgrade_headers + "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n" + version13));
  expect_refused(client, response, 400);
}

// 4.4: a version the server does not speak: 426 with the versions it does in
// Sec-WebSocket-Version.
TEST_F(handshake, wrong_version_is_426_with_version_13) {
  auto client = connect_raw();
  auto response = client.request(
      request_with("GET", "HTTP/1.1", upgrade_headers + key + "Sec-WebSocket-Version: 8\r\n"));
  expect_refused(client, response, 426);
  EXPECT_EQ(response.header("sec-websocket-version"), "13") << response.head;
}

TEST_F(handshake, missing_version_is_refused) {
  auto client = connect_raw();
  auto response = client.request(request_with("GET", "HTTP/1.1", upgrade_headers + key));
  EXPECT_TRUE(response.status == 426 || response.status == 400) << response.head;
  EXPECT_TRUE(client.wait_eof());
}

// 4.2.1 item 1: the method must be GET.
TEST_F(handshake, post_is_405_or_400) {
  auto client = connect_raw();
  auto response = client.request(request_with(
      "POST", "HTTP/1.1", upgrade_headers + key + version13 + "Content-Length: 0\r\n"));
  EXPECT_TRUE(response.status == 405 || response.status == 400) << response.head;
  EXPECT_TRUE(response.header("sec-websocket-accept").empty());
  EXPECT_TRUE(client.wait_eof());
}

// 4.2.1 item 3: an Upgrade header with "websocket" is required; 426 Upgrade Required.
TEST_F(handshake, missing_upgrade_header_is_426) {
  auto client = connect_raw();
  auto response =
      client.request(request_with("GET", "HTTP/1.1", "Connection: Upgrade\r\n" + key + version13));
  expect_refused(client, response, 426);
}

TEST_F(handshake, missing_connection_upgrade_is_refused) {
  auto client = connect_raw();
  auto response =
      client.request(request_with("GET", "HTTP/1.1", "Upgrade: websocket\r\n" + key + version13));
  EXPECT_TRUE(response.status == 426 || response.status == 400) << response.head;
  EXPECT_TRUE(client.wait_eof());
}

// 4.2.1 item 1: "An HTTP/1.1 or higher GET request".
TEST_F(handshake, http_1_0_is_400) {
  auto client = connect_raw();
  auto response =
      client.request(request_with("GET", "HTTP/1.0", upgrade_headers + key + version13));
  expect_refused(client, response, 400);
}

// Frame bytes that arrive in the same packet as the upgrade request belong to the WebSocket
// and are handled after it.
TEST_F(handshake, frames_pipelined_with_the_upgrade_request_are_handled) {
  auto client = connect_raw();
  std::string frames = encode_frame(op_text, ping_request("pipelined"));
  frames += encode_frame(op_ping, "pp");
  frames += encode_frame(op_text, ping_request("pipelined-2", 300));
  auto response = client.upgrade("/ws/pipeliner", frames);
  ASSERT_EQ(response.status, 101) << response.head;
  auto welcome = client.read_data_frame();
  ASSERT_TRUE(welcome.has_value());
  EXPECT_NE(welcome->payload.find(R"("type":"welcome")"), std::string::npos);
  expect_pong(client, "pipelined");
  expect_pong(client, "pipelined-2");
}

TEST_F(handshake, partial_frame_pipelined_with_the_upgrade_request_is_completed) {
  auto client = connect_raw();
  std::string frame = encode_frame(op_text, ping_request("split", 200));
  auto response = client.upgrade("/ws/splitter", frame.substr(0, 7));
  ASSERT_EQ(response.status, 101) << response.head;
  auto welcome = client.read_data_frame();
  ASSERT_TRUE(welcome.has_value());
  client.send(frame.substr(7));
  expect_pong(client, "split");
}

TEST_F(handshake, bad_frame_pipelined_with_the_upgrade_request_fails_with_1002) {
  auto client = connect_raw();
  frame_options unmasked;
  unmasked.masked = false;
  auto response = client.upgrade("/ws/bad-pipeliner", encode_frame(op_text, "x", unmasked));
  ASSERT_EQ(response.status, 101) << response.head;
  expect_failed_with(client, 1002);
}

TEST_F(handshake, extension_offer_is_declined) {
  auto client = connect_raw();
  auto response = client.request(
      request_with("GET", "HTTP/1.1",
                   upgrade_headers + key + version13 +
                       "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
  ASSERT_EQ(response.status, 101) << response.head;
  EXPECT_TRUE(response.header("sec-websocket-extensions").empty()) << response.head;
  // Declined: so RSV1 (compressed) is still a protocol error.
  client.read_data_frame();
  frame_options rsv1;
  rsv1.rsv = 4;
  client.send_frame(op_text, "x", rsv1);
  expect_failed_with(client, 1002);
}

}  // namespace
}  // namespace conformance
