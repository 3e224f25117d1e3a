// Connecting (protocol.md "Connecting"): which /ws paths upgrade, which get HTTP 400, and the
// upgrade's headers (version 13 only, no compression).
#include "chat_test.hpp"

namespace parley::it {
namespace {

class handshake : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({}); }
  static void TearDownTestSuite() { stop_server(); }

  // Upgrade request for `target` on a fresh raw socket; checks a 400 with a plain-text reason.
  void expect_bad_id(const std::string& target) {
    SCOPED_TRACE("target " + target);
    raw_client r(port());
    auto resp = r.upgrade(target);
    EXPECT_EQ(resp.status, 400) << resp.reason << "\n" << resp.body;
    EXPECT_EQ(resp.header("content-type").rfind("text/plain", 0), 0u)
        << "Content-Type: " << resp.header("content-type");
    EXPECT_FALSE(resp.body.empty()) << "no reason in the body";
    EXPECT_FALSE(resp.has_header("sec-websocket-accept"));
  }
};

TEST_F(handshake, missing_id_is_400) {
  expect_bad_id("/ws");
  expect_bad_id("/ws/");
  expect_bad_id("/ws?token=x");
}

TEST_F(handshake, id_of_65_bytes_is_400_and_64_is_accepted) {
  expect_bad_id("/ws/" + std::string(65, 'a'));
  std::string id = unique_id("long");
  id += std::string(64 - id.size() - 4, 'c') + "_.-9";
  ASSERT_EQ(id.size(), 64u);
  auto c = client();
  c->connect(id);
}

TEST_F(handshake, bad_characters_are_400) {
  for (const char* t : {"/ws/a@b", "/ws/a:b", "/ws/a+b", "/ws/a%20b", "/ws/a*b", "/ws/a%22b",
                        "/ws/%C3%A9t%C3%A9", "/ws/a%00b", "/ws/a~b", "/ws/a!b", "/ws/a,b"})
    expect_bad_id(t);
}

TEST_F(handshake, encoded_slash_and_extra_segments_are_400) {
  expect_bad_id("/ws/a%2Fb");
  expect_bad_id("/ws/a%2fb");
  expect_bad_id("/ws/%2F");
  expect_bad_id("/ws/a/b");
  expect_bad_id("/ws/abc/");
  expect_bad_id("/ws//abc");
}

TEST_F(handshake, bad_percent_encoding_is_400) {
  expect_bad_id("/ws/ab%6");
  expect_bad_id("/ws/ab%zz");
  expect_bad_id("/ws/ab%");
}

TEST_F(handshake, bad_id_is_never_redirected) {
  raw_client r(port());
  auto resp = r.upgrade("/ws//" + unique_id("redir"));
  EXPECT_NE(resp.status / 100, 3) << "redirected to " << resp.header("location");
  EXPECT_EQ(resp.status, 400);
}

TEST_F(handshake, percent_decoded_id_is_used) {
  auto c = client();
  const std::string tag = unique_id("pd");
  // "%63" is 'c', "%2E" is '.', "%5F" is '_'
  c->connect(tag + "ab%63%2E%5F", tag + "abc._");
}

TEST_F(handshake, query_string_is_not_part_of_the_id) {
  const std::string id = unique_id("q");
  auto c = client();
  c->start("/ws/" + id + "?token=anything");
  ASSERT_TRUE(c->wait_open());
  auto w = c->read_json();
  EXPECT_EQ(type_of(w), "welcome");
  EXPECT_EQ(str(w, "id"), id);
}

TEST_F(handshake, welcome_is_the_first_frame) {
  const std::string id = unique_id("w");
  auto before = now_ms();
  auto c = client();
  auto w = c->connect(id);
  auto after = now_ms();
  EXPECT_EQ(str(w, "id"), id);
  ASSERT_TRUE(w.at("server_time").is_number());
  auto t = w.at("server_time").to_number<std::int64_t>();
  EXPECT_GE(t, before - 2000);
  EXPECT_LE(t, after + 2000);
  EXPECT_FALSE(has(w, "cid"));
  c->expect_nothing(ms{100});
}

TEST_F(handshake, accept_header_is_rfc6455) {
  raw_client r(port());
  auto resp = r.upgrade("/ws/" + unique_id("acc"));
  ASSERT_EQ(resp.status, 101);
  // RFC 6455 section 1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" gives this accept value.
  EXPECT_EQ(resp.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_F(handshake, websocket_version_other_than_13_is_426) {
  for (const char* v : {"8", "12", "14"}) {
    SCOPED_TRACE(std::string("version ") + v);
    raw_client r(port());
    auto resp =
        r.upgrade("/ws/" + unique_id("v"), std::string("Sec-WebSocket-Version: ") + v + "\r\n");
    EXPECT_EQ(resp.status, 426) << resp.reason;
    EXPECT_NE(resp.header("sec-websocket-version").find("13"), std::string::npos)
        << "Sec-WebSocket-Version: " << resp.header("sec-websocket-version");
  }
}

TEST_F(handshake, permessage_deflate_is_not_negotiated) {
  raw_client r(port());
  auto resp = r.upgrade("/ws/" + unique_id("defl"),
                        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
  ASSERT_EQ(resp.status, 101);
  EXPECT_FALSE(resp.has_header("sec-websocket-extensions"))
      << "Sec-WebSocket-Extensions: " << resp.header("sec-websocket-extensions");
  auto f = r.read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 1);
  EXPECT_EQ(f->rsv, 0) << "welcome was compressed";
  EXPECT_NE(f->payload.find("welcome"), std::string::npos) << f->payload;
}

TEST_F(handshake, several_connections_per_id) {
  const std::string id = unique_id("multi");
  auto a = connect(id);
  auto b = connect(id);
  auto c = connect(id);
  expect_usable(*a);
  expect_usable(*b);
  expect_usable(*c);
}

}  // namespace
}  // namespace parley::it
