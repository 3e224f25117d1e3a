// Size and encoding limits: text over --max-text-bytes -> too_large (stays open), any message
// over --max-binary-bytes or in more than --max-message-fragments frames -> close 1009, invalid
// UTF-8 in a text message -> close 1007.
#include "chat_test.hpp"

namespace parley::it {
namespace {

constexpr std::size_t max_text = 1024;
constexpr std::size_t max_binary = 4096;

class limits : public chat_test {
 protected:
  static void SetUpTestSuite() {
    start_server({"--max-text-bytes", std::to_string(max_text), "--max-binary-bytes",
                  std::to_string(max_binary)});
  }
  static void TearDownTestSuite() { stop_server(); }

  // A msg frame of exactly `size` bytes.
  static std::string msg_of_size(const std::string& to, std::size_t size, const std::string& cid) {
    std::string head = R"({"type":"msg","to":")" + to + R"(","cid":")" + cid + R"(","text":")";
    std::string tail = "\"}";
    return head + std::string(size - head.size() - tail.size(), 'x') + tail;
  }

  // A raw WebSocket connection past its welcome.
  std::unique_ptr<raw_client> raw_open(const std::string& prefix) {
    return raw_ws(unique_id(prefix));
  }
};

TEST_F(limits, text_at_the_limit_is_delivered) {
  const std::string b = unique_id("b");
  auto ca = connect(unique_id("a")), cb = connect(b);
  auto frame = msg_of_size(b, max_text, "c1");
  ASSERT_EQ(frame.size(), max_text);
  ca->send_text(frame);
  auto ack = ca->read_json();
  EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_EQ(type_of(cb->read_json()), "msg");
}

TEST_F(limits, text_over_the_limit_is_too_large_and_the_connection_stays) {
  const std::string b = unique_id("b");
  auto ca = connect(unique_id("a")), cb = connect(b);
  for (std::size_t size : {max_text + 1, 2 * max_text, max_binary}) {
    SCOPED_TRACE("size " + std::to_string(size));
    ca->send_text(msg_of_size(b, size, "big"));
    auto e = ca->read_json();
    EXPECT_EQ(type_of(e), "error") << to_string(e);
    EXPECT_EQ(str(e, "code"), "too_large") << to_string(e);
    expect_usable(*ca);
  }
  cb->expect_nothing(ms{100});
  ca->send_text(std::string(max_text + 1, '['));  // size is checked whatever the content
  EXPECT_EQ(str(ca->read_json(), "code"), "too_large");
  send_msg(*ca, b, "still here", "c2");
}

TEST_F(limits, fragmented_text_over_the_limit_is_too_large) {
  auto r = raw_open("frag");
  std::string half(max_text / 2 + 10, 'y');
  r->send_frame(1, half, false);
  r->send_frame(0, half, true);
  auto f = r->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 1);
  EXPECT_NE(f->payload.find("too_large"), std::string::npos) << f->payload;
}

TEST_F(limits, binary_at_the_limit_is_delivered) {
  const std::string b = unique_id("b");
  auto cb = connect(b);
  auto ca = connect(unique_id("a"));
  std::string header = R"({"to":")" + b + R"(","cid":"f"})";
  std::string ok = std::string{char(0), char(header.size())} + header;
  ok += std::string(max_binary - ok.size(), 'z');
  ca->send_binary(ok);  // exactly at the limit: fine
  EXPECT_EQ(type_of(ca->read_json()), "ack");
  auto got = cb->read_binary();
  ASSERT_GE(got.size(), 2u);
  std::size_t h = (static_cast<unsigned char>(got[0]) << 8) | static_cast<unsigned char>(got[1]);
  EXPECT_EQ(got.size() - 2 - h, max_binary - ok.find('z'));
}

TEST_F(limits, message_over_the_binary_limit_closes_1009) {
  {
    auto ca = connect(unique_id("a"));
    std::string big(max_binary + 1, 'z');
    big[0] = 0;
    big[1] = 2;
    ca->send_binary(big);
    auto code = ca->wait_closed();
    ASSERT_TRUE(code) << "connection not closed";
    EXPECT_EQ(*code, 1009);
  }
  {
    // A text message over the binary limit too ("a longer message of any kind").
    auto ca = connect(unique_id("a"));
    ca->send_text(std::string(max_binary + 1, ' '));
    auto code = ca->wait_closed();
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 1009);
  }
  {
    // Fragments that add up to more than the limit.
    auto r = raw_open("frag");
    std::string part(max_binary / 2 + 1, 'q');
    r->send_frame(2, part, false);
    r->try_send(client_frame(0, part, true));
    auto code = r->read_until_close();
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 1009);
  }
}

TEST_F(limits, huge_frame_header_is_refused_before_the_payload_is_read) {
  auto r = raw_open("huge");
  // A masked binary frame announcing 100 MiB, followed by only a few bytes of it.
  std::string f = "\x82\xff";
  std::uint64_t n = 100ull << 20;
  for (int i = 7; i >= 0; --i)
    f.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  f += std::string("\x01\x02\x03\x04", 4) + "abcdefgh";
  auto t0 = steady::now();
  r->send(f);
  auto code = r->read_until_close(ms{3000});
  ASSERT_TRUE(code) << "no close frame within 3 s";
  EXPECT_EQ(*code, 1009);
  EXPECT_LT(ms_since(t0), 1000.0);
  auto c = connect(unique_id("after"));
  expect_usable(*c);
}

TEST_F(limits, invalid_utf8_text_closes_1007) {
  const std::vector<std::string> bad = {
      "\xff",                                              // never valid
      "{\"type\":\"ping\",\"cid\":\"\xc0\xaf\"}",          // overlong '/'
      "{\"type\":\"ping\",\"cid\":\"\xed\xa0\x80\"}",      // UTF-16 surrogate as UTF-8
      "{\"type\":\"ping\",\"cid\":\"\xf4\x90\x80\x80\"}",  // over U+10FFFF
      "{\"type\":\"ping\",\"cid\":\"\x80\"}",              // lone continuation byte
      "{\"type\":\"ping\",\"cid\":\"a\xe2\x82",            // truncated at the end
  };
  for (const auto& text : bad) {
    SCOPED_TRACE("bytes of size " + std::to_string(text.size()));
    auto r = raw_open("utf8");
    r->send_frame(1, text);
    auto code = r->read_until_close();
    ASSERT_TRUE(code) << "no close frame";
    EXPECT_EQ(*code, 1007);
  }
}

TEST_F(limits, invalid_utf8_across_fragments_closes_1007) {
  auto r = raw_open("utf8f");
  r->send_frame(1, "{\"type\":\"ping\",\"cid\":\"\xe2\x82", false);  // valid so far
  r->send_frame(0, "\x41\"}", true);                                 // but not continued
  auto code = r->read_until_close();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1007);
}

TEST_F(limits, utf8_split_across_fragments_is_fine) {
  auto r = raw_open("utf8ok");
  r->send_frame(1, "{\"type\":\"ping\",\"cid\":\"\xe2\x82", false);
  r->send_frame(0, "\xac\"}", true);  // U+20AC completed
  auto f = r->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 1);
  EXPECT_NE(f->payload.find("\xe2\x82\xac"), std::string::npos) << f->payload;
}

// --max-message-fragments: a message may come in that many frames; the frame past it closes the
// connection with 1009, so a stream of empty continuations that never ends a message is cut off.
class fragment_limit : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flag
  static void SetUpTestSuite() { start_server({"--max-message-fragments", "4"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(fragment_limit, a_message_past_the_fragment_limit_closes_1009) {
  auto r = raw_ws(unique_id("frag"));
  const std::string ping = R"({"type":"ping","cid":"four"})";
  r->send(client_frame(1, ping.substr(0, 5), false) + client_frame(0, ping.substr(5, 5), false) +
          client_frame(0, "", false) + client_frame(0, ping.substr(10), true));
  auto pong = r->read_frame();
  ASSERT_TRUE(pong) << "a message in 4 frames was not answered";
  EXPECT_NE(pong->payload.find(R"("cid":"four")"), std::string::npos) << pong->payload;

  std::string endless = client_frame(1, "", false);
  for (int i = 0; i < 100; ++i)
    endless += client_frame(0, "", false);
  r->try_send(endless);
  auto code = r->read_until_close();
  ASSERT_TRUE(code) << "no close frame";
  EXPECT_EQ(*code, 1009);
  auto after = connect(unique_id("after"));
  expect_usable(*after);
}

}  // namespace
}  // namespace parley::it
