// Binary frames: [2-byte big-endian header length H][H bytes of JSON header][payload].
#include "chat_test.hpp"

#include <random>

namespace parley::it {
namespace {

std::string frame_of(const std::string& header, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(header.size() >> 8));
  f.push_back(static_cast<char>(header.size() & 0xff));
  return f + header + payload;
}

struct split_frame {
  json::object header;
  std::string payload;
};

split_frame split(const std::string& f) {
  if (f.size() < 2) throw std::runtime_error("binary frame shorter than 2 bytes");
  std::size_t h = (static_cast<unsigned char>(f[0]) << 8) | static_cast<unsigned char>(f[1]);
  if (2 + h > f.size()) throw std::runtime_error("header length past the end");
  auto v = json::parse(f.substr(2, h));
  return {v.as_object(), f.substr(2 + h)};
}

std::string random_bytes(std::size_t n) {
  std::mt19937 rng(12345);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  s[0] = '\0';  // zeros and high bytes are kept as they are
  if (n > 3) s[3] = '\xff';
  return s;
}

class binary : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--threads", "2"}); }
  static void TearDownTestSuite() { stop_server(); }

  void SetUp() override {
    self_ = unique_id("bin");
    c_ = connect(self_);
  }

  void expect_error(const std::string& frame, const std::string& code,
                    const std::string& cid = "") {
    c_->send_binary(frame);
    auto e = c_->read_json();
    EXPECT_EQ(type_of(e), "error") << to_string(e);
    EXPECT_EQ(str(e, "code"), code) << to_string(e);
    if (!cid.empty()) {
      EXPECT_EQ(str(e, "cid"), cid) << to_string(e);
    }
    expect_usable(*c_);
  }

  std::string self_;
  std::unique_ptr<ws_client> c_;
};

TEST_F(binary, forwarded_with_header_and_identical_payload) {
  const std::string b = unique_id("b");
  auto b1 = connect(b), b2 = connect(b);
  auto a2 = connect(self_);
  const std::string payload = random_bytes(100000);
  c_->send_binary(
      frame_of(R"({"to":")" + b + R"(","name":"cat.png","mime":"image/png","cid":"c2"})", payload));
  auto ack = c_->read_json();
  EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_EQ(str(ack, "cid"), "c2");
  EXPECT_EQ(str(ack, "status"), "delivered");
  for (auto* c : {b1.get(), b2.get(), a2.get()}) {
    auto f = split(c->read_binary());
    EXPECT_EQ(str(f.header, "from"), self_) << to_string(f.header);
    EXPECT_EQ(str(f.header, "to"), b);
    EXPECT_EQ(str(f.header, "name"), "cat.png");
    EXPECT_EQ(str(f.header, "mime"), "image/png");
    EXPECT_EQ(str(f.header, "mid"), str(ack, "mid"));
    EXPECT_TRUE(f.header.contains("ts") && f.header.at("ts").is_number());
    EXPECT_FALSE(has(f.header, "cid")) << "cid forwarded: " << to_string(f.header);
    EXPECT_FALSE(has(f.header, "type")) << to_string(f.header);
    EXPECT_TRUE(f.payload == payload) << "payload changed (" << f.payload.size() << " bytes)";
  }
  for (auto* c : {c_.get(), a2.get(), b1.get(), b2.get()})
    c->expect_nothing(ms{100});
}

TEST_F(binary, name_and_mime_only_when_present) {
  const std::string b = unique_id("b");
  auto cb = connect(b);
  c_->send_binary(frame_of(R"({"to":")" + b + R"("})", "xyz"));
  auto f = split(cb->read_binary());
  EXPECT_FALSE(has(f.header, "name")) << to_string(f.header);
  EXPECT_FALSE(has(f.header, "mime")) << to_string(f.header);
  EXPECT_EQ(f.payload, "xyz");
  c_->expect_nothing(ms{150});  // no cid: no ack

  c_->send_binary(
      frame_of(R"({"to":")" + b + R"(","name":null,"mime":"text/plain","extra":1})", ""));
  f = split(cb->read_binary());
  EXPECT_FALSE(has(f.header, "name")) << "null name must be absent: " << to_string(f.header);
  EXPECT_EQ(str(f.header, "mime"), "text/plain");
  EXPECT_FALSE(has(f.header, "extra"));
  EXPECT_EQ(f.payload, "");

  c_->send_binary(frame_of(R"({"to":")" + b + R"(","name":"a.txt","mime":null})", "p"));
  f = split(cb->read_binary());
  EXPECT_EQ(str(f.header, "name"), "a.txt");
  EXPECT_FALSE(has(f.header, "mime")) << to_string(f.header);
}

TEST_F(binary, name_255_and_mime_127_bytes_are_fine_longer_is_bad_request) {
  const std::string b = unique_id("b");
  auto cb = connect(b);
  const std::string name255(255, 'n'), mime127(127, 'm');
  c_->send_binary(frame_of(
      R"({"to":")" + b + R"(","name":")" + name255 + R"(","mime":")" + mime127 + R"(","cid":"ok"})",
      "p"));
  EXPECT_EQ(type_of(c_->read_json()), "ack");
  auto f = split(cb->read_binary());
  EXPECT_EQ(str(f.header, "name"), name255);
  EXPECT_EQ(str(f.header, "mime"), mime127);

  expect_error(
      frame_of(R"({"to":")" + b + R"(","name":")" + std::string(256, 'n') + R"(","cid":"n"})", "p"),
      "bad_request", "n");
  expect_error(frame_of(R"({"to":")" + b + R"(","mime":")" + std::string(128, 'm') + R"("})", "p"),
               "bad_request");
  expect_error(frame_of(R"({"to":")" + b + R"(","name":5})", "p"), "bad_request");
  expect_error(frame_of(R"({"to":")" + b + R"(","mime":["a"]})", "p"), "bad_request");
  cb->expect_nothing(ms{100});
}

TEST_F(binary, missing_or_ill_typed_to_is_bad_request) {
  expect_error(frame_of(R"({"name":"x"})", "p"), "bad_request");
  expect_error(frame_of(R"({"to":5,"cid":"t"})", "p"), "bad_request", "t");
  expect_error(frame_of(R"({"to":null})", "p"), "bad_request");
  expect_error(frame_of(R"({"to":"x","cid":7})", "p"), "bad_request");
  expect_error(frame_of(R"({"to":"x","cid":")" + std::string(65, 'c') + R"("})", "p"),
               "bad_request");
}

TEST_F(binary, header_length_past_the_end_is_bad_request) {
  expect_error(std::string("\x00\x10", 2) + R"({"to":"x"})", "bad_request");
  expect_error(std::string("\xff\xff", 2) + "abc", "bad_request");
  expect_error(std::string("\x00", 1), "bad_request");  // not even the 2-byte length
  expect_error("", "bad_request");
}

TEST_F(binary, header_not_json_or_not_utf8_is_bad_json) {
  expect_error(frame_of("not json", "p"), "bad_json");
  expect_error(frame_of("", "p"), "bad_json");
  expect_error(frame_of(R"(["to","x"])", "p"), "bad_json");
  expect_error(frame_of(R"("x")", "p"), "bad_json");
  expect_error(frame_of("{\"to\":\"x\",\"name\":\"\xff\"}", "p"), "bad_json");
  expect_error(frame_of("{\"to\":\"x\",\"name\":\"\xc0\xaf\"}", "p"), "bad_json");
  expect_error(frame_of("\xEF\xBB\xBF{\"to\":\"x\"}", "p"), "bad_json");
  expect_error(frame_of(R"({"to":"x","name":"\uD800"})", "p"), "bad_json");
  expect_error(frame_of(R"({"to":"x","n":NaN})", "p"), "bad_json");
  std::string deep = R"({"to":"x","d":)" + std::string(32, '[') + std::string(32, ']') + "}";
  expect_error(frame_of(deep, "p"), "bad_json");
}

TEST_F(binary, offline_recipient_is_an_error) {
  const std::string nobody = unique_id("nobody");
  c_->send_binary(frame_of(R"({"to":")" + nobody + R"(","cid":"off"})", "p"));
  auto e = c_->read_json();
  EXPECT_EQ(str(e, "code"), "offline") << to_string(e);
  EXPECT_EQ(str(e, "cid"), "off");
  EXPECT_EQ(str(e, "to"), nobody);
}

TEST_F(binary, payload_that_looks_like_json_is_not_parsed) {
  const std::string b = unique_id("b");
  auto cb = connect(b);
  const std::string payload = "\xff\xfe{\"to\":\"evil\"}[[[[[\x00";
  c_->send_binary(frame_of(R"({"to":")" + b + R"(","cid":"p"})", payload));
  EXPECT_EQ(type_of(c_->read_json()), "ack");
  EXPECT_TRUE(split(cb->read_binary()).payload == payload);
}

}  // namespace
}  // namespace parley::it
