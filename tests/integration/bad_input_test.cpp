// Every bad input of protocol.md's text frames: the right error code, and the connection stays
// usable afterwards.
#include "chat_test.hpp"

namespace parley::it {
namespace {

class bad_input : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--threads", "2"}); }
  static void TearDownTestSuite() { stop_server(); }

  void SetUp() override {
    self_ = unique_id("bad");
    c_ = connect(self_);
  }
  void TearDown() override { c_.reset(); }

  // Sends `text`, expects an error with `code` (and `cid` when given), then a working ping.
  void expect_error(const std::string& text, const std::string& code, const std::string& cid = "") {
    SCOPED_TRACE("frame: " + text.substr(0, 200));
    c_->send_text(text);
    auto e = c_->read_json();
    EXPECT_EQ(type_of(e), "error") << to_string(e);
    EXPECT_EQ(str(e, "code"), code) << to_string(e);
    EXPECT_TRUE(e.contains("message") && e.at("message").is_string()) << to_string(e);
    if (!cid.empty()) {
      EXPECT_EQ(str(e, "cid"), cid) << to_string(e);
    }
    c_->expect_nothing(ms{30});
    expect_usable(*c_);
  }

  std::string self_;
  std::unique_ptr<ws_client> c_;
};

std::string nested(int depth, bool objects) {
  // depth levels including the outer object: {"type":"ping","x": <depth-1 levels> }
  std::string open, close;
  for (int i = 1; i < depth; ++i) {
    open += objects ? "{\"k\":" : "[";
    close += objects ? "}" : "]";
  }
  return R"({"type":"ping","cid":"deep","x":)" + open + "1" + close + "}";
}

TEST_F(bad_input, not_json_is_bad_json) {
  expect_error("hello", "bad_json");
  expect_error("", "bad_json");
  expect_error("{", "bad_json");
  expect_error(R"({"type":"ping",})", "bad_json");
  expect_error(R"({'type':'ping'})", "bad_json");
  expect_error(R"({"type":"ping"} x)", "bad_json");
  expect_error(R"({"type":"ping"}{"type":"ping"})", "bad_json");
  expect_error(R"({"type":"ping" /* c */})", "bad_json");
  expect_error(R"({"type":"msg","to":"a","text":"raw)"
               "\x01"
               R"("})",
               "bad_json");
}

TEST_F(bad_input, arrays_and_scalars_are_bad_json) {
  for (const char* t : {R"([{"type":"ping"}])", "[]", R"("ping")", "42", "null", "true", "-1.5"})
    expect_error(t, "bad_json");
}

TEST_F(bad_input, nan_and_infinity_are_bad_json) {
  for (const char* v : {"NaN", "Infinity", "-Infinity", "nan", "inf"})
    expect_error(std::string(R"({"type":"ping","x":)") + v + "}", "bad_json");
}

TEST_F(bad_input, lone_surrogate_escapes_are_bad_json) {
  expect_error(R"({"type":"ping","cid":"\uD800"})", "bad_json");
  expect_error(R"({"type":"ping","cid":"\uDFFF"})", "bad_json");
  expect_error(R"({"type":"ping","cid":"\uDC00\uD800"})", "bad_json");
  expect_error(R"({"type":"ping","cid":"a\uD800b"})", "bad_json");
  expect_error(R"({"type":"ping","x":"\uD83D"})", "bad_json");  // in an unknown field too
  expect_error(R"({"type":"ping","\uD800":1})", "bad_json");    // in a key
  // A proper pair is fine.
  c_->send_text(R"({"type":"ping","cid":"\uD83D\uDE00"})");
  auto p = c_->read_json();
  EXPECT_EQ(type_of(p), "pong") << to_string(p);
  EXPECT_EQ(str(p, "cid"), "\U0001F600");
}

TEST_F(bad_input, nesting_32_is_fine_33_is_bad_json) {
  for (bool objects : {false, true}) {
    SCOPED_TRACE(objects ? "objects" : "arrays");
    c_->send_text(nested(32, objects));
    auto p = c_->read_json();
    EXPECT_EQ(type_of(p), "pong") << "32 levels must be accepted: " << to_string(p);
    expect_error(nested(33, objects), "bad_json");
    expect_error(nested(1000, objects), "bad_json");
  }
}

TEST_F(bad_input, byte_order_mark_is_bad_json) {
  expect_error("\xEF\xBB\xBF{\"type\":\"ping\"}", "bad_json");
}

TEST_F(bad_input, missing_or_ill_typed_type_is_bad_request) {
  expect_error("{}", "bad_request");
  expect_error(R"({"type":null})", "bad_request");
  expect_error(R"({"type":5})", "bad_request");
  expect_error(R"({"type":["msg"]})", "bad_request");
  expect_error(R"({"type":{"x":1},"cid":"t1"})", "bad_request", "t1");
}

TEST_F(bad_input, unknown_type_is_unknown_type_with_cid) {
  expect_error(R"({"type":"dance","cid":"u1"})", "unknown_type", "u1");
  expect_error(R"({"type":""})", "unknown_type");
  expect_error(R"({"type":"msg "})", "unknown_type");
}

TEST_F(bad_input, msg_with_missing_or_ill_typed_fields_is_bad_request) {
  const std::string to = unique_id("peer");
  auto peer = connect(to);
  expect_error(R"({"type":"msg","text":"x","cid":"m1"})", "bad_request", "m1");
  expect_error(R"({"type":"msg","to":")" + to + R"(","cid":"m2"})", "bad_request", "m2");
  expect_error(R"({"type":"msg","to":5,"text":"x"})", "bad_request");
  expect_error(R"({"type":"msg","to":null,"text":"x"})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":7})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":null})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":{"a":"b"}})", "bad_request");
  expect_error(R"({"type":"msg","to":[")" + to + R"("],"text":"x"})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":"x","cid":5})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":"x","cid":true})", "bad_request");
  expect_error(R"({"type":"msg","to":")" + to + R"(","text":"x","cid":["c"]})", "bad_request");
  expect_error(
      R"({"type":"msg","to":")" + to + R"(","text":"x","cid":")" + std::string(65, 'c') + R"("})",
      "bad_request");
  peer->expect_nothing(ms{100});  // none of these was delivered
}

TEST_F(bad_input, typing_without_to_is_bad_request) {
  expect_error(R"({"type":"typing"})", "bad_request");
  expect_error(R"({"type":"typing","to":1,"cid":"ty"})", "bad_request", "ty");
}

TEST_F(bad_input, ill_typed_cid_on_other_requests_is_bad_request) {
  expect_error(R"({"type":"ping","cid":1})", "bad_request");
  expect_error(R"({"type":"who","cid":{}})", "bad_request");
}

TEST_F(bad_input, many_errors_in_a_row_keep_the_connection) {
  std::string burst;
  for (int i = 0; i < 100; ++i)
    c_->send_text(i % 2 ? "nope" : "[1]");
  for (int i = 0; i < 100; ++i) {
    auto e = c_->read_json();
    ASSERT_EQ(str(e, "code"), "bad_json") << to_string(e);
  }
  expect_usable(*c_);
}

TEST_F(bad_input, fragmented_text_message_is_reassembled) {
  auto r = raw_ws(unique_id("frag"));
  r->send_frame(1, R"({"type":"pi)", false);
  r->send_frame(9, "ctl");  // a ping between fragments is allowed (RFC 6455 5.4)
  r->send_frame(0, R"(ng","cid":)", false);
  r->send_frame(0, R"("frag"})", true);
  for (int i = 0; i < 2; ++i) {
    auto f = r->read_frame();
    ASSERT_TRUE(f);
    if (f->opcode == 10) {
      EXPECT_EQ(f->payload, "ctl");
      continue;
    }
    EXPECT_EQ(f->opcode, 1);
    EXPECT_NE(f->payload.find("pong"), std::string::npos) << f->payload;
    EXPECT_NE(f->payload.find("frag"), std::string::npos) << f->payload;
  }
}

TEST_F(bad_input, protocol_violations_close_with_1002) {
  // RFC 6455 section 5.1: a client frame must be masked.
  {
    auto r = raw_ws(unique_id("unmasked"));
    std::string f = "\x81\x0f{\"type\":\"ping\"}";
    r->send(f);
    auto code = r->read_until_close();
    ASSERT_TRUE(code) << "no close frame for an unmasked frame";
    EXPECT_EQ(*code, 1002);
  }
  // An unknown opcode.
  {
    auto r = raw_ws(unique_id("opcode"));
    r->send_frame(3, "x");
    auto code = r->read_until_close();
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 1002);
  }
  // A continuation frame with nothing to continue.
  {
    auto r = raw_ws(unique_id("cont"));
    r->send_frame(0, "x");
    auto code = r->read_until_close();
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 1002);
  }
  // RSV bits without a negotiated extension.
  {
    auto r = raw_ws(unique_id("rsv"));
    r->send(client_frame(1, R"({"type":"ping"})", true, 4));
    auto code = r->read_until_close();
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 1002);
  }
  auto c = connect(unique_id("after"));  // the server still serves
  expect_usable(*c);
}

}  // namespace
}  // namespace parley::it
