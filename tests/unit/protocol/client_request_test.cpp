#include "parley/protocol/client_request.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/frames.hpp"

namespace parley::protocol {
namespace {

using test::bytes;

std::string describe(const request& r) {
  if (const auto* e = std::get_if<request_error>(&r)) {
    return "error " + std::string(to_string(e->code)) + ": " + std::string(e->message);
  }
  return "request of kind " + std::to_string(r.index());
}

// The request is an error with this code and cid, and a message for people.
testing::AssertionResult is_error(const request& r, error_code code,
                                  optional_cid cid = std::nullopt) {
  const auto* e = std::get_if<request_error>(&r);
  if (!e) return testing::AssertionFailure() << "not an error: " << describe(r);
  if (e->code != code) {
    return testing::AssertionFailure() << describe(r) << ", expected " << to_string(code);
  }
  if (e->cid != cid) {
    return testing::AssertionFailure()
           << "cid " << e->cid.value_or("(none)") << ", expected " << cid.value_or("(none)");
  }
  if (e->message.empty()) return testing::AssertionFailure() << "empty message";
  return testing::AssertionSuccess();
}

// A binary frame: [2-byte big-endian header length][header][payload].
std::string binary_frame(std::string_view header, std::string_view payload = {}) {
  std::string out =
      bytes({static_cast<int>(header.size() >> 8), static_cast<int>(header.size() & 0xFF)});
  out += header;
  out += payload;
  return out;
}

// JSON nested `depth` levels deep in all, the outer object included.
std::string nested_object(std::size_t depth, char open = '[') {
  char close = open == '[' ? ']' : '}';
  std::string inner = open == '[' ? "0" : "{}";
  std::string s = R"({"type":"ping","x":)";
  std::size_t levels = open == '[' ? depth - 1 : depth - 2;  // "{}" is a level itself
  for (std::size_t i = 0; i < levels; ++i)
    s += open == '[' ? "[" : R"({"a":)";
  s += inner;
  s += std::string(levels, close);
  s += "}";
  return s;
}

// The message of an error request, or a description of what came instead.
std::string message_of(const request& r) {
  const auto* e = std::get_if<request_error>(&r);
  return e ? std::string(e->message) : describe(r);
}

class ClientRequest : public testing::Test {
 protected:
  request_parser parser;
};

// --- msg -------------------------------------------------------------------------------------

TEST_F(ClientRequest, MsgFromTheProtocol) {
  request r = parser.parse_text(R"({"type":"msg","to":"6001","text":"hello","cid":"c1"})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->text, "hello");
  EXPECT_EQ(m->cid, "c1");
}

TEST_F(ClientRequest, MsgWithoutCid) {
  request r = parser.parse_text(R"({"type":"msg","to":"6001","text":""})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->text, "");
  EXPECT_EQ(m->cid, std::nullopt);
}

TEST_F(ClientRequest, FieldOrderAndWhitespaceDoNotMatter) {
  request r = parser.parse_text(
      " \r\n\t{ \"cid\" : \"c1\" , \"text\":\"t\",\"to\":\"6001\",\"type\":\"msg\" }\n ");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->text, "t");
  EXPECT_EQ(m->cid, "c1");
}

TEST_F(ClientRequest, UnknownFieldsAreIgnored) {
  request r = parser.parse_text(
      R"({"type":"msg","to":"6001","text":"hi","extra":{"deep":[1,2,{"x":null}]},"n":1e400,"To":5})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
}

TEST_F(ClientRequest, EscapesAreDecoded) {
  request r = parser.parse_text(
      R"({"type":"msg","to":"\u0036001","text":"caf\u00e9 \ud83d\ude00 \"q\" \\ \n \/"})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->text, "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ \n /");
}

TEST_F(ClientRequest, MsgWithAMissingOrIllTypedField) {
  for (const char* frame : {
           R"({"type":"msg","text":"hi","cid":"c1"})",
           R"({"type":"msg","to":"6001","cid":"c1"})",
           R"({"type":"msg","to":6001,"text":"hi","cid":"c1"})",
           R"({"type":"msg","to":"6001","text":5,"cid":"c1"})",
           R"({"type":"msg","to":null,"text":"hi","cid":"c1"})",
           R"({"type":"msg","to":"6001","text":null,"cid":"c1"})",
           R"({"type":"msg","to":["6001"],"text":"hi","cid":"c1"})",
           R"({"type":"msg","to":"6001","text":{"a":1},"cid":"c1"})",
           R"({"type":"msg","to":"6001","text":true,"cid":"c1"})",
           R"({"type":"msg","To":"6001","Text":"hi","cid":"c1"})",
           R"({"type":"msg","to":1e400,"text":"hi","cid":"c1"})",
           R"({"type":"msg","to":123456789012345678901234567890,"text":"hi","cid":"c1"})",
       }) {
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_request, "c1")) << frame;
  }
}

// The limit is on the id's bytes once decoded, not on its characters or its escaped form.
TEST_F(ClientRequest, RecipientIsAtMostSixtyFourBytes) {
  auto msg_to = [](const std::string& to) {
    return R"({"type":"msg","to":")" + to + R"(","text":"x"})";
  };
  request r = parser.parse_text(msg_to(std::string(64, 'a')));
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).to.size(), 64u);
  EXPECT_TRUE(is_error(parser.parse_text(msg_to(std::string(65, 'a'))), error_code::bad_request));

  std::string euros;
  for (int i = 0; i < 21; ++i)
    euros += "\xE2\x82\xAC";  // 63 bytes
  EXPECT_TRUE(std::holds_alternative<msg_request>(parser.parse_text(msg_to(euros))));
  EXPECT_TRUE(is_error(parser.parse_text(msg_to(euros + "\xE2\x82\xAC")), error_code::bad_request));

  std::string escaped;
  for (int i = 0; i < 64; ++i)
    escaped += "\\u0041";
  r = parser.parse_text(msg_to(escaped));
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).to, std::string(64, 'A'));
}

// An id with characters a client id never has is simply never online.
TEST_F(ClientRequest, RecipientNeedNotBeAValidClientId) {
  request r = parser.parse_text(R"({"type":"msg","to":"no such/id","text":"x"})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "no such/id");
}

TEST_F(ClientRequest, LongTextIsNotLimitedByTheParser) {
  std::string text(100000, 'x');
  request r = parser.parse_text(R"({"type":"msg","to":"6001","text":")" + text + R"("})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->text, text);
}

// --- cid -------------------------------------------------------------------------------------

TEST_F(ClientRequest, CidNullIsAbsentAndEmptyIsPresent) {
  request r = parser.parse_text(R"({"type":"ping","cid":null})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, std::nullopt);
  r = parser.parse_text(R"({"type":"ping","cid":""})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, "");
}

TEST_F(ClientRequest, CidIsAStringOfAtMostSixtyFourBytes) {
  std::string cid64(64, 'c');
  request r = parser.parse_text(R"({"type":"ping","cid":")" + cid64 + R"("})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, cid64);

  // A bad cid is not echoed.
  for (std::string bad : {R"(")" + std::string(65, 'c') + R"(")", std::string("5"),
                          std::string("true"), std::string(R"(["c1"])"), std::string("{}")}) {
    std::string frame = R"({"type":"msg","to":"6001","text":"x","cid":)" + bad + "}";
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_request)) << frame;
  }
}

// --- type ------------------------------------------------------------------------------------

TEST_F(ClientRequest, TypeIsARequiredString) {
  EXPECT_TRUE(is_error(parser.parse_text("{}"), error_code::bad_request));
  EXPECT_TRUE(is_error(parser.parse_text(R"({"cid":"c1"})"), error_code::bad_request, "c1"));
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":null,"cid":"c1"})"), error_code::bad_request, "c1"));
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":1,"cid":"c1"})"), error_code::bad_request, "c1"));
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":["msg"],"cid":"c1"})"), error_code::bad_request, "c1"));
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"Type":"ping","cid":"c1"})"), error_code::bad_request, "c1"));
}

TEST_F(ClientRequest, UnknownTypeEchoesCid) {
  for (const char* frame : {R"({"type":"dance","cid":"c7"})", R"({"type":"MSG","cid":"c7"})",
                            R"({"type":"","cid":"c7"})", R"({"type":"ping ","cid":"c7"})",
                            R"({"type":"welcome","cid":"c7"})"}) {
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::unknown_type, "c7")) << frame;
  }
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"dance"})"), error_code::unknown_type));
}

// --- who, ping, typing, watch ----------------------------------------------------------------

TEST_F(ClientRequest, WhoAndPing) {
  request r = parser.parse_text(R"({"type":"who"})");
  ASSERT_TRUE(std::holds_alternative<who_request>(r)) << describe(r);
  EXPECT_EQ(std::get<who_request>(r).cid, std::nullopt);
  r = parser.parse_text(R"({"type":"who","cid":"w"})");
  ASSERT_TRUE(std::holds_alternative<who_request>(r)) << describe(r);
  EXPECT_EQ(std::get<who_request>(r).cid, "w");
  r = parser.parse_text(R"({"type":"ping"})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, std::nullopt);
  r = parser.parse_text(R"({"type":"ping","cid":"p"})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, "p");
}

TEST_F(ClientRequest, Typing) {
  request r = parser.parse_text(R"({"type":"typing","to":"6001"})");
  const auto* t = std::get_if<typing_request>(&r);
  ASSERT_NE(t, nullptr) << describe(r);
  EXPECT_EQ(t->to, "6001");
  EXPECT_EQ(t->cid, std::nullopt);
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":"typing","cid":"t"})"), error_code::bad_request, "t"));
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"typing","to":1,"cid":"t"})"),
                       error_code::bad_request, "t"));
  EXPECT_TRUE(is_error(
      parser.parse_text(R"({"type":"typing","to":")" + std::string(65, 'a') + R"(","cid":"t"})"),
      error_code::bad_request, "t"));
}

TEST_F(ClientRequest, Watch) {
  request r = parser.parse_text(R"({"type":"watch","ids":["6001","6002"],"cid":"w"})");
  const auto* w = std::get_if<watch_request>(&r);
  ASSERT_NE(w, nullptr) << describe(r);
  EXPECT_EQ(w->ids, (std::vector<std::string_view>{"6001", "6002"}));
  EXPECT_EQ(w->cid, "w");
}

TEST_F(ClientRequest, WatchKeepsEachIdOnceInOrder) {
  request r = parser.parse_text(R"({"type":"watch","ids":["b","a","b","c","a"]})");
  const auto* w = std::get_if<watch_request>(&r);
  ASSERT_NE(w, nullptr) << describe(r);
  EXPECT_EQ(w->ids, (std::vector<std::string_view>{"b", "a", "c"}));
}

TEST_F(ClientRequest, WatchOfNoIds) {
  request r = parser.parse_text(R"({"type":"watch","ids":[]})");
  const auto* w = std::get_if<watch_request>(&r);
  ASSERT_NE(w, nullptr) << describe(r);
  EXPECT_TRUE(w->ids.empty());
}

TEST_F(ClientRequest, WatchWithBadIds) {
  for (std::string ids :
       {std::string(), std::string(R"("ids":null,)"), std::string(R"("ids":"6001",)"),
        std::string(R"("ids":{"a":"6001"},)"), std::string(R"("ids":["6001",5],)"),
        std::string(R"("ids":[null],)"), std::string(R"("ids":[["6001"]],)"),
        R"("ids":[")" + std::string(65, 'x') + R"("],)"}) {
    std::string frame = R"({"type":"watch",)" + ids + R"("cid":"w"})";
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_request, "w")) << frame;
  }
}

TEST_F(ClientRequest, WatchListsAtMostTheLimit) {
  request_parser small({.max_watch_ids = 3});
  request r = small.parse_text(R"({"type":"watch","ids":["a","b","c"]})");
  ASSERT_TRUE(std::holds_alternative<watch_request>(r)) << describe(r);
  EXPECT_EQ(std::get<watch_request>(r).ids.size(), 3u);
  EXPECT_TRUE(is_error(small.parse_text(R"({"type":"watch","ids":["a","b","c","d"],"cid":"w"})"),
                       error_code::bad_request, "w"));
  EXPECT_EQ(request_limits{}.max_watch_ids, 1000u);
}

// --- bad_json --------------------------------------------------------------------------------

TEST_F(ClientRequest, NotJsonIsBadJson) {
  for (std::string frame :
       {std::string(""), std::string(" "), std::string("hello"), std::string("{"), std::string("}"),
        std::string(R"({"type":"ping")"), std::string(R"({"type":"ping",})"),
        std::string(R"({type:"ping"})"), std::string(R"({'type':'ping'})"),
        std::string(R"({"type":"ping"}})"), std::string(R"({"type":"ping"}{"type":"ping"})"),
        std::string(R"({"type":"ping"} x)"), std::string(R"({"type":"ping"/*c*/})"),
        std::string(R"({"type":"ping","n":01})"), std::string(R"({"type":"ping","n":.5})"),
        std::string(R"({"type":"ping","n":+1})"),
        std::string(R"({"type":"p)"
                    "\x01"
                    R"("})"),
        std::string(R"({"type":"ping","s":"\x"})"), std::string("{\"type\":\"ping\"}\0", 16)}) {
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_json)) << frame;
  }
}

TEST_F(ClientRequest, NonObjectJsonIsBadJson) {
  for (const char* frame : {"[]", R"([{"type":"ping","cid":"c1"}])", R"("ping")", "42", "-1.5e3",
                            "true", "false", "null"}) {
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_json)) << frame;
  }
}

TEST_F(ClientRequest, NanAndInfinityAreBadJson) {
  for (const char* value : {"NaN", "Infinity", "-Infinity", "nan", "inf"}) {
    std::string frame = R"({"type":"ping","cid":"c1","n":)" + std::string(value) + "}";
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_json)) << frame;
  }
}

TEST_F(ClientRequest, LoneSurrogateEscapesAreBadJson) {
  for (const char* s : {R"(\uD800)", R"(\uDBFF)", R"(\uDC00)", R"(\uDFFF)", R"(\ud800x)",
                        R"(\uD800\u0041)", R"(\uDC00\uD800)", R"(\uD800\uD800)", R"(a\uDE00)"}) {
    std::string frame =
        R"({"type":"msg","to":"6001","text":")" + std::string(s) + R"(","cid":"c1"})";
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_json)) << frame;
  }
  request r = parser.parse_text(R"({"type":"msg","to":"6001","text":"\uD83D\uDE00"})");
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).text, "\xF0\x9F\x98\x80");
  r = parser.parse_text(R"({"type":"msg","to":"6001","text":"\uDBFF\uDFFF\uD7FF\uE000"})");
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).text, "\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80");
}

TEST_F(ClientRequest, InvalidUtf8IsBadJson) {
  for (std::string raw :
       {bytes({0xFF}), bytes({0xC0, 0xAF}), bytes({0xED, 0xA0, 0x80}), bytes({0xC3})}) {
    std::string frame = R"({"type":"msg","to":"6001","text":")" + raw + R"("})";
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_json));
  }
}

TEST_F(ClientRequest, ByteOrderMarkIsBadJson) {
  EXPECT_TRUE(is_error(parser.parse_text("\xEF\xBB\xBF{\"type\":\"ping\"}"), error_code::bad_json));
}

TEST_F(ClientRequest, NestingUpToThirtyTwoLevels) {
  for (char open : {'[', '{'}) {
    std::string ok = nested_object(32, open);
    request r = parser.parse_text(ok);
    EXPECT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r) << " " << ok;
    std::string deep = nested_object(33, open);
    EXPECT_TRUE(is_error(parser.parse_text(deep), error_code::bad_json)) << deep;
    EXPECT_TRUE(is_error(parser.parse_text(nested_object(1000, open)), error_code::bad_json));
  }
  EXPECT_EQ(max_json_depth, 32u);
}

// --- what the streaming parse must keep doing ------------------------------------------------

// Boost.JSON's DOM (json::parse, Boost 1.81) keeps the last of duplicate keys, whatever the
// earlier values were: a later null erases an earlier string, a later good value repairs an
// earlier bad one. The parser keeps that rule.
TEST_F(ClientRequest, DuplicateKeysTheLastOneCounts) {
  request r = parser.parse_text(R"({"type":"who","type":"ping"})");
  EXPECT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  r = parser.parse_text(R"({"type":5,"type":"ping"})");
  EXPECT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":"ping","type":null})"), error_code::bad_request));

  r = parser.parse_text(R"({"type":"ping","cid":"a","cid":"b"})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, "b");
  r = parser.parse_text(R"({"type":"ping","cid":"a","cid":null})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, std::nullopt);
  r = parser.parse_text(R"({"type":"ping","cid":5,"cid":"ok"})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, "ok");
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"ping","cid":"ok","cid":5})"),
                       error_code::bad_request));

  r = parser.parse_text(R"({"type":"msg","to":"a","text":"x","to":"b","text":"y","to":"c"})");
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).to, "c");
  EXPECT_EQ(std::get<msg_request>(r).text, "y");
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"msg","to":"a","text":"x","to":[],"cid":"c"})"),
                       error_code::bad_request, "c"));
}

TEST_F(ClientRequest, DuplicateIdsKeysTheLastOneCounts) {
  request_parser small({.max_watch_ids = 3});
  for (const char* frame : {R"({"type":"watch","ids":["a"],"ids":["b","c"]})",
                            R"({"type":"watch","ids":[5],"ids":["b","c"]})",
                            R"({"type":"watch","ids":"x","ids":["b","c","b"]})",
                            R"({"type":"watch","ids":["a","b","c","d"],"ids":["b","c"]})",
                            R"({"type":"watch","ids":null,"ids":["b","c"]})"}) {
    request r = small.parse_text(frame);
    ASSERT_TRUE(std::holds_alternative<watch_request>(r)) << describe(r) << " " << frame;
    EXPECT_EQ(std::get<watch_request>(r).ids, (std::vector<std::string_view>{"b", "c"})) << frame;
  }
  EXPECT_TRUE(is_error(small.parse_text(R"({"type":"watch","ids":["a"],"ids":null})"),
                       error_code::bad_request));
  EXPECT_EQ(message_of(small.parse_text(R"({"type":"watch","ids":["a"],"ids":["a","b","c","d"]})")),
            "watch lists too many ids");
}

TEST_F(ClientRequest, DuplicateKeysInAFileHeader) {
  const std::string frame = binary_frame(
      R"({"to":"a","name":"x","mime":"m","cid":"c","to":"b","name":null,"mime":"n","cid":"d"})");
  request r = parser.parse_binary(frame);
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->to, "b");
  EXPECT_EQ(f->name, std::nullopt);
  EXPECT_EQ(f->mime, "n");
  EXPECT_EQ(f->cid, "d");
}

// A key is compared once decoded, so an escaped key is the same key.
TEST_F(ClientRequest, EscapedKeysAreTheSameKeys) {
  request r =
      parser.parse_text(R"({"\u0074ype":"msg","t\u006f":"6001","te\u0078t":"hi","ci\u0064":"c"})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->text, "hi");
  EXPECT_EQ(m->cid, "c");
  r = parser.parse_text(R"({"type":"ping","cid":"a","\u0063id":"b"})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, "b");
}

// Only exact top-level keys count: a prefix, an extension, or the same key in a nested object
// is an unknown field.
TEST_F(ClientRequest, OnlyTopLevelKeysCount) {
  request r = parser.parse_text(
      R"({"typ":"msg","typeX":"msg","":"msg","x":{"type":"msg","cid":5,"to":1},"y":[{"cid":7}],)"
      R"("type":"ping","z":{"ids":3,"a":{"type":"who"}}})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, std::nullopt);

  r = parser.parse_text(
      R"({"x":{"to":"z","text":"w"},"type":"msg","to":"6001","text":"hi","t":{"text":5}})");
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_EQ(std::get<msg_request>(r).to, "6001");
  EXPECT_EQ(std::get<msg_request>(r).text, "hi");

  r = parser.parse_text(R"({"type":"watch","x":{"ids":5},"ids":["a"],"y":{"ids":[1]}})");
  ASSERT_TRUE(std::holds_alternative<watch_request>(r)) << describe(r);
  EXPECT_EQ(std::get<watch_request>(r).ids, (std::vector<std::string_view>{"a"}));
}

TEST_F(ClientRequest, UnknownFieldsOfEveryKindAreSkipped) {
  request r = parser.parse_text(
      R"({"a":-0.5e-3,"b":18446744073709551615,"c":-9223372036854775808,"d":true,"e":false,)"
      R"("f":null,"g":"s\"\\\n\u00e9\ud83d\ude00","h":[[[],{}],[1,"x",null]],"i":{"j":{"k":[]}},)"
      R"("type":"msg","to":"6001","text":"t","l":[true,false,null,0,"\u0000"]})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->text, "t");
}

TEST_F(ClientRequest, EscapesInEveryKeptField) {
  request r = parser.parse_text(
      R"({"type":"msg","to":"\ud83d\ude00\n","text":"a\"b\\c\/d\b\f\n\r\t\u0001","cid":"c\"\u00e9"})");
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "\xF0\x9F\x98\x80\n");
  EXPECT_EQ(m->text, "a\"b\\c/d\b\f\n\r\t\x01");
  EXPECT_EQ(m->cid, "c\"\xC3\xA9");

  r = parser.parse_text(R"({"type":"watch","ids":["\u0061","a","\u0062\n","b\n"],"cid":"\t"})");
  const auto* w = std::get_if<watch_request>(&r);
  ASSERT_NE(w, nullptr) << describe(r);
  EXPECT_EQ(w->ids, (std::vector<std::string_view>{"a", "b\n"}));
  EXPECT_EQ(w->cid, "\t");

  const std::string frame =
      binary_frame(R"({"to":"\u0036001","name":"c\u00e4t.png","mime":"image\/png"})", "p");
  r = parser.parse_binary(frame);
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->to, "6001");
  EXPECT_EQ(f->name, "c\xC3\xA4t.png");
  EXPECT_EQ(f->mime, "image/png");
}

// Escaped strings longer than any internal buffer of the JSON parser, so they arrive in pieces.
TEST_F(ClientRequest, LongEscapedStrings) {
  std::string escaped, decoded;
  for (int i = 0; i < 5000; ++i) {
    escaped += i % 7 ? "ab\\n" : "\\u00e9\\ud83d\\ude00\\\"";
    decoded += i % 7 ? "ab\n" : "\xC3\xA9\xF0\x9F\x98\x80\"";
  }
  std::string prefix(10000, 'p');
  std::string frame = R"({"type":"msg","to":"6001","text":")" + prefix + escaped + prefix +
                      R"(","cid":"x","k)" + escaped + R"(":")" + escaped + R"("})";
  request r = parser.parse_text(frame);
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->text, prefix + decoded + prefix);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->cid, "x");
}

// Each limit is on decoded bytes: an escaped cid of 64 bytes is fine, of 65 is not.
TEST_F(ClientRequest, EscapedCidIsMeasuredDecoded) {
  std::string cid;
  for (int i = 0; i < 64; ++i)
    cid += "\\u0041";
  request r = parser.parse_text(R"({"type":"ping","cid":")" + cid + R"("})");
  ASSERT_TRUE(std::holds_alternative<ping_request>(r)) << describe(r);
  EXPECT_EQ(std::get<ping_request>(r).cid, std::string(64, 'A'));
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"ping","cid":")" + cid + R"(\n"})"),
                       error_code::bad_request));
}

TEST_F(ClientRequest, CidOfEveryOtherKindIsBad) {
  for (const char* cid : {"-1", "1.5", "18446744073709551615", "1e400", "false", "[]", "{}",
                          R"({"cid":"c"})", R"(["c"])"}) {
    std::string frame = R"({"type":"ping","cid":)" + std::string(cid) + "}";
    request r = parser.parse_text(frame);
    EXPECT_TRUE(is_error(r, error_code::bad_request)) << frame;
    EXPECT_EQ(message_of(r), "cid must be a string of at most 64 bytes") << frame;
  }
}

// The views of a request point into the parser, not into the frame: they outlive it.
TEST_F(ClientRequest, RequestViewsDoNotPointIntoTheFrame) {
  std::string frame = R"({"type":"msg","to":"6001","text":"hello","cid":"c1"})";
  request r = parser.parse_text(frame);
  std::fill(frame.begin(), frame.end(), 'X');
  const auto* m = std::get_if<msg_request>(&r);
  ASSERT_NE(m, nullptr) << describe(r);
  EXPECT_EQ(m->to, "6001");
  EXPECT_EQ(m->text, "hello");
  EXPECT_EQ(m->cid, "c1");

  std::string watch = R"({"type":"watch","ids":["a","b"]})";
  r = parser.parse_text(watch);
  std::fill(watch.begin(), watch.end(), 'X');
  ASSERT_TRUE(std::holds_alternative<watch_request>(r)) << describe(r);
  EXPECT_EQ(std::get<watch_request>(r).ids, (std::vector<std::string_view>{"a", "b"}));

  std::string file = binary_frame(R"({"to":"6001","name":"n","mime":"m","cid":"c"})", "P");
  r = parser.parse_binary(file);
  std::fill(file.begin(), file.end() - 1, 'X');  // all but the payload, which is the frame's
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->to, "6001");
  EXPECT_EQ(f->name, "n");
  EXPECT_EQ(f->mime, "m");
  EXPECT_EQ(f->cid, "c");
  EXPECT_EQ(f->payload, "P");
}

TEST_F(ClientRequest, ErrorMessages) {
  EXPECT_EQ(message_of(parser.parse_text("")), "not valid JSON");
  EXPECT_EQ(message_of(parser.parse_text(" \t\r\n")), "not valid JSON");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"ping"} x)")), "not valid JSON");
  EXPECT_EQ(message_of(parser.parse_text(R"([1] x)")), "not valid JSON");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"ping",)")), "not valid JSON");
  EXPECT_EQ(message_of(parser.parse_text(R"([{"type":"ping"}])")), "not a JSON object");
  EXPECT_EQ(message_of(parser.parse_text(" \"x\" ")), "not a JSON object");
  EXPECT_EQ(message_of(parser.parse_text("null")), "not a JSON object");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"ping","cid":5})")),
            "cid must be a string of at most 64 bytes");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":5})")), "missing \"type\" (a string)");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"x"})")), "unknown type");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"msg","to":"a"})")),
            "msg needs \"to\" (a string of at most 64 bytes) and \"text\" (a string)");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"typing"})")),
            "typing needs \"to\" (a string of at most 64 bytes)");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"watch","ids":{}})")),
            "watch needs \"ids\", an array of strings of at most 64 bytes");
  EXPECT_EQ(message_of(parser.parse_binary(binary_frame(R"({"name":"n"})"))),
            "binary header needs \"to\" (a string of at most 64 bytes)");
  EXPECT_EQ(message_of(parser.parse_binary(binary_frame(R"({"to":"a","name":1})"))),
            "\"name\" must be a string of at most 255 bytes");
  EXPECT_EQ(message_of(parser.parse_binary(binary_frame(R"({"to":"a","mime":1})"))),
            "\"mime\" must be a string of at most 127 bytes");
  EXPECT_EQ(message_of(parser.parse_binary(binary_frame("[]"))), "not a JSON object");
  EXPECT_EQ(message_of(parser.parse_binary(binary_frame("{"))), "not valid JSON");
}

// The number of ids is checked before their kinds, and before duplicates are dropped.
TEST_F(ClientRequest, WatchCountsIdsBeforeCheckingThem) {
  request_parser small({.max_watch_ids = 3});
  EXPECT_EQ(message_of(small.parse_text(R"({"type":"watch","ids":["a",5,"b","c"]})")),
            "watch lists too many ids");
  EXPECT_EQ(message_of(small.parse_text(R"({"type":"watch","ids":["a","a","a","a"]})")),
            "watch lists too many ids");
  EXPECT_EQ(message_of(small.parse_text(R"({"type":"watch","ids":["a",[1,2,3,4],"b"]})")),
            "watch needs \"ids\", an array of strings of at most 64 bytes");
  request r = small.parse_text(R"({"type":"watch","ids":["a","a","b"]})");
  ASSERT_TRUE(std::holds_alternative<watch_request>(r)) << describe(r);
  EXPECT_EQ(std::get<watch_request>(r).ids, (std::vector<std::string_view>{"a", "b"}));
}

// Nesting counts every array and object, the outer object included: 32 levels are JSON, 33 are
// not, whichever field holds them and whatever the outer value is.
TEST_F(ClientRequest, NestingLimitIsExactlyThirtyTwo) {
  auto nest = [](std::size_t levels, std::string_view inner) {
    std::string s;
    for (std::size_t i = 0; i < levels; ++i)
      s += i % 2 ? R"({"k":)" : "[";
    s += inner;
    for (std::size_t i = levels; i-- > 0;)
      s += i % 2 ? "}" : "]";
    return s;
  };
  // The outer object is level 1; "x" holds levels 2 and up.
  auto frame = [&](std::size_t levels) {
    return R"({"type":"ping","x":)" + nest(levels - 1, "1") + "}";
  };
  EXPECT_TRUE(std::holds_alternative<ping_request>(parser.parse_text(frame(32))));
  EXPECT_EQ(message_of(parser.parse_text(frame(33))), "not valid JSON");

  auto ids = [&](std::size_t levels) {
    return R"({"type":"watch","ids":[)" + nest(levels - 2, R"("a")") + "]}";
  };
  EXPECT_EQ(message_of(parser.parse_text(ids(32))),
            "watch needs \"ids\", an array of strings of at most 64 bytes");
  EXPECT_EQ(message_of(parser.parse_text(ids(33))), "not valid JSON");

  EXPECT_EQ(message_of(parser.parse_text(nest(32, "1"))), "not a JSON object");
  EXPECT_EQ(message_of(parser.parse_text(nest(33, "1"))), "not valid JSON");

  const std::string ok = binary_frame(R"({"to":"a","x":)" + nest(31, "1") + "}");
  EXPECT_TRUE(std::holds_alternative<file_request>(parser.parse_binary(ok)));
  const std::string deep = binary_frame(R"({"to":"a","x":)" + nest(32, "1") + "}");
  EXPECT_EQ(message_of(parser.parse_binary(deep)), "not valid JSON");
}

TEST_F(ClientRequest, TrailingWhitespaceIsFineAnythingElseIsNot) {
  EXPECT_TRUE(
      std::holds_alternative<ping_request>(parser.parse_text("{\"type\":\"ping\"} \t\r\n")));
  for (const char* tail : {",", "]", "}", "0", "\"\"", "{}", "null", "\x01"}) {
    std::string frame = std::string(R"({"type":"ping"} )") + tail;
    EXPECT_EQ(message_of(parser.parse_text(frame)), "not valid JSON") << frame;
  }
}

// --- protocol-v2: read, history, conversations (store_requests) ------------------------------

class StoreRequest : public testing::Test {
 protected:
  request_parser parser{request_limits{.store_requests = true}};

  // The frame is bad_request, with its cid echoed.
  void expect_bad(const std::string& frame) {
    EXPECT_TRUE(is_error(parser.parse_text(frame), error_code::bad_request, "c")) << frame;
  }
};

// Without a store they are unknown types, exactly as in version 1.
TEST_F(ClientRequest, StoreRequestsAreUnknownTypesWithoutAStore) {
  EXPECT_FALSE(request_limits{}.store_requests);
  for (const char* frame :
       {R"({"type":"read","with":"1001","seq":40,"cid":"c"})",
        R"({"type":"history","with":"1001","before":58,"limit":50,"cid":"c"})",
        R"({"type":"conversations","limit":50,"cid":"c"})", R"({"type":"read","seq":-1,"cid":"c"})",
        R"({"type":"history","limit":0,"cid":"c"})"}) {
    request r = parser.parse_text(frame);
    EXPECT_TRUE(is_error(r, error_code::unknown_type, "c")) << frame;
    EXPECT_EQ(message_of(r), "unknown type") << frame;
  }
}

// With them, version 1's requests read the same.
TEST_F(StoreRequest, VersionOneRequestsAreUnchanged) {
  request r = parser.parse_text(R"({"type":"msg","to":"6001","text":"hi","cid":"c1"})");
  ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
  EXPECT_TRUE(std::holds_alternative<who_request>(parser.parse_text(R"({"type":"who"})")));
  EXPECT_TRUE(
      is_error(parser.parse_text(R"({"type":"dance","cid":"c"})"), error_code::unknown_type, "c"));
  EXPECT_TRUE(is_error(parser.parse_text(R"({"type":"READ","with":"a","seq":1,"cid":"c"})"),
                       error_code::unknown_type, "c"));
}

TEST_F(StoreRequest, ReadFromTheProtocol) {
  request r = parser.parse_text(R"({"type":"read","with":"1001","seq":40})");
  const auto* read = std::get_if<read_request>(&r);
  ASSERT_NE(read, nullptr) << describe(r);
  EXPECT_EQ(read->with, "1001");
  EXPECT_EQ(read->seq, 40);
  EXPECT_EQ(read->cid, std::nullopt);

  r = parser.parse_text(R"({"cid":"r1","seq":0,"with":"a.b-C_9","type":"read"})");
  read = std::get_if<read_request>(&r);
  ASSERT_NE(read, nullptr) << describe(r);
  EXPECT_EQ(read->with, "a.b-C_9");
  EXPECT_EQ(read->seq, 0);  // allowed: it changes nothing
  EXPECT_EQ(read->cid, "r1");
}

// A whole number written with a fraction or an exponent is that integer.
TEST_F(StoreRequest, WholeNumbersInAnyNotation) {
  for (const char* seq : {"5", "5.0", "5e0", "0.5e1", "50e-1"}) {
    std::string frame = R"({"type":"read","with":"a","seq":)" + std::string(seq) + "}";
    request r = parser.parse_text(frame);
    ASSERT_TRUE(std::holds_alternative<read_request>(r)) << describe(r) << " " << frame;
    EXPECT_EQ(std::get<read_request>(r).seq, 5) << frame;
  }
  request r = parser.parse_text(R"({"type":"history","with":"a","limit":5.0,"after":7.0})");
  const auto* h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->limit, 5);
  EXPECT_EQ(h->after, 7);
  r = parser.parse_text(R"({"type":"conversations","limit":2e2})");
  ASSERT_TRUE(std::holds_alternative<conversations_request>(r)) << describe(r);
  EXPECT_EQ(std::get<conversations_request>(r).limit, 200);
}

// Boost.JSON 1.81 reads a zero with an exponent past 308 as NaN; the number is 0, and a NaN
// must never reach a request (nor a conversion to an integer, which is undefined for it).
TEST_F(StoreRequest, ZeroWithAHugeExponentIsZero) {
  for (const char* zero : {"0e320", "-0e320", "0.0e400", "0E999"}) {
    std::string frame = R"({"type":"read","with":"a","seq":)" + std::string(zero) + "}";
    request r = parser.parse_text(frame);
    ASSERT_TRUE(std::holds_alternative<read_request>(r)) << describe(r) << " " << frame;
    EXPECT_EQ(std::get<read_request>(r).seq, 0) << frame;

    frame = R"({"type":"conversations","before_ts":)" + std::string(zero) + "}";
    r = parser.parse_text(frame);
    ASSERT_TRUE(std::holds_alternative<conversations_request>(r)) << describe(r) << " " << frame;
    EXPECT_EQ(std::get<conversations_request>(r).before_ts, 0.0) << frame;

    expect_bad(R"({"type":"history","with":"a","limit":)" + std::string(zero) + R"(,"cid":"c"})");
  }
}

// A seq is an integer >= 0 that a JavaScript client holds exactly (at most 2^53 - 1).
TEST_F(StoreRequest, ReadSeqMustBeAnIntegerOfAtLeastZero) {
  request r = parser.parse_text(R"({"type":"read","with":"a","seq":9007199254740991})");
  ASSERT_TRUE(std::holds_alternative<read_request>(r)) << describe(r);
  EXPECT_EQ(std::get<read_request>(r).seq, 9007199254740991);
  for (const char* seq : {"-1", "-0.5", "1.5", "0.1", "1e300", "-1e300", "9007199254740992",
                          "18446744073709551616", R"("40")", "true", "null", "[1]", "{}"}) {
    expect_bad(R"({"type":"read","with":"a","seq":)" + std::string(seq) + R"(,"cid":"c"})");
  }
  expect_bad(R"({"type":"read","with":"a","cid":"c"})");  // seq is required
}

TEST_F(StoreRequest, WithMustBeAValidClientId) {
  for (std::string with :
       {std::string(R"("no/such id")"), std::string(R"("")"), std::string(R"("a b")"),
        std::string(R"("caf\u00e9")"), R"(")" + std::string(65, 'w') + R"(")", std::string("1001"),
        std::string("null"), std::string(R"(["a"])")}) {
    expect_bad(R"({"type":"read","with":)" + with + R"(,"seq":1,"cid":"c"})");
    expect_bad(R"({"type":"history","with":)" + with + R"(,"cid":"c"})");
  }
  expect_bad(R"({"type":"read","seq":1,"cid":"c"})");
  expect_bad(R"({"type":"history","cid":"c"})");
  std::string longest(64, 'w');
  request r = parser.parse_text(R"({"type":"history","with":")" + longest + R"("})");
  ASSERT_TRUE(std::holds_alternative<history_request>(r)) << describe(r);
  EXPECT_EQ(std::get<history_request>(r).with, longest);
}

TEST_F(StoreRequest, HistoryFromTheProtocol) {
  request r =
      parser.parse_text(R"({"type":"history","with":"1001","before":58,"limit":50,"cid":"h1"})");
  const auto* h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->with, "1001");
  EXPECT_EQ(h->before, 58);
  EXPECT_EQ(h->after, std::nullopt);
  EXPECT_EQ(h->limit, 50);
  EXPECT_EQ(h->cid, "h1");

  r = parser.parse_text(R"({"type":"history","with":"1001","after":41,"limit":200})");
  h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->before, std::nullopt);
  EXPECT_EQ(h->after, 41);
  EXPECT_EQ(h->limit, 200);
  EXPECT_EQ(h->cid, std::nullopt);

  // Neither: the newest, 50 of them.
  r = parser.parse_text(R"({"type":"history","with":"1001"})");
  h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->before, std::nullopt);
  EXPECT_EQ(h->after, std::nullopt);
  EXPECT_EQ(h->limit, default_page_items);
  EXPECT_EQ(default_page_items, 50);

  // after 0 reads from the first message; before 0 is a valid (empty) page.
  r = parser.parse_text(R"({"type":"history","with":"1001","after":0,"limit":1})");
  h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->after, 0);
  EXPECT_EQ(h->limit, 1);
  r = parser.parse_text(R"({"type":"history","with":"1001","before":0})");
  ASSERT_TRUE(std::holds_alternative<history_request>(r)) << describe(r);
  EXPECT_EQ(std::get<history_request>(r).before, 0);
}

// Null is absent (protocol.md): a null before beside an after is not "both", a null limit is
// the default.
TEST_F(StoreRequest, NullIsAbsent) {
  request r = parser.parse_text(
      R"({"type":"history","with":"a","before":null,"after":3,"limit":null,"cid":null})");
  const auto* h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->before, std::nullopt);
  EXPECT_EQ(h->after, 3);
  EXPECT_EQ(h->limit, 50);
  EXPECT_EQ(h->cid, std::nullopt);

  r = parser.parse_text(R"({"type":"conversations","limit":null,"before_ts":null})");
  const auto* c = std::get_if<conversations_request>(&r);
  ASSERT_NE(c, nullptr) << describe(r);
  EXPECT_EQ(c->limit, 50);
  EXPECT_EQ(c->before_ts, std::nullopt);

  expect_bad(R"({"type":"read","with":"a","seq":null,"cid":"c"})");  // required
  expect_bad(R"({"type":"history","with":null,"cid":"c"})");
}

TEST_F(StoreRequest, HistoryBadRequests) {
  for (const char* fields : {
           R"("before":9,"after":2)",  // both
           R"("before":0,"after":0)",
           R"("limit":0)",
           R"("limit":201)",
           R"("limit":-1)",
           R"("limit":1.5)",
           R"("limit":1e300)",
           R"("limit":"50")",
           R"("limit":true)",
           R"("before":-1)",
           R"("after":-1)",
           R"("before":1.5)",
           R"("after":1e300)",
           R"("before":"58")",
           R"("after":[41])",
           R"("after":9007199254740992)",
       }) {
    expect_bad(R"({"type":"history","with":"1001",)" + std::string(fields) + R"(,"cid":"c"})");
  }
  request r = parser.parse_text(R"({"type":"history","with":"1001","limit":1})");
  ASSERT_TRUE(std::holds_alternative<history_request>(r)) << describe(r);
  EXPECT_EQ(max_page_items, 200);
}

TEST_F(StoreRequest, ConversationsFromTheProtocol) {
  request r = parser.parse_text(
      R"({"type":"conversations","limit":50,"before_ts":1767225600000.5,"cid":"k1"})");
  const auto* c = std::get_if<conversations_request>(&r);
  ASSERT_NE(c, nullptr) << describe(r);
  EXPECT_EQ(c->limit, 50);
  EXPECT_EQ(c->before_ts, 1767225600000.5);
  EXPECT_EQ(c->cid, "k1");

  r = parser.parse_text(R"({"type":"conversations"})");
  c = std::get_if<conversations_request>(&r);
  ASSERT_NE(c, nullptr) << describe(r);
  EXPECT_EQ(c->limit, 50);
  EXPECT_EQ(c->before_ts, std::nullopt);
  EXPECT_EQ(c->cid, std::nullopt);

  // before_ts is any number: an integer, a fraction, a big one.
  for (const char* ts : {"0", "1767225600000", "-5", "1.5", "1e300"}) {
    std::string frame = R"({"type":"conversations","limit":1,"before_ts":)" + std::string(ts) + "}";
    r = parser.parse_text(frame);
    ASSERT_TRUE(std::holds_alternative<conversations_request>(r)) << describe(r) << " " << frame;
    EXPECT_EQ(std::get<conversations_request>(r).before_ts, std::stod(ts)) << frame;
  }
}

TEST_F(StoreRequest, ConversationsBadRequests) {
  for (const char* fields : {R"("limit":0)", R"("limit":201)", R"("limit":2.5)", R"("limit":"5")",
                             R"("before_ts":"1767225600000")", R"("before_ts":true)",
                             R"("before_ts":[1])", R"("before_ts":{})"}) {
    expect_bad(R"({"type":"conversations",)" + std::string(fields) + R"(,"cid":"c"})");
  }
}

// The last of duplicate keys counts, for the v2 fields too.
TEST_F(StoreRequest, DuplicateKeysTheLastOneCounts) {
  request r = parser.parse_text(
      R"({"type":"history","with":"x/y","with":"a","limit":0,"limit":7,"before":1,"before":null,)"
      R"("after":2})");
  const auto* h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->with, "a");
  EXPECT_EQ(h->limit, 7);
  EXPECT_EQ(h->before, std::nullopt);
  EXPECT_EQ(h->after, 2);
  expect_bad(R"({"type":"read","with":"a","seq":1,"seq":-1,"cid":"c"})");
}

TEST_F(StoreRequest, ErrorMessages) {
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"read","with":"a"})")),
            "read needs \"with\", a client id, and \"seq\", an integer >= 0");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"history","with":"a","limit":0})")),
            "history needs \"with\", a client id, at most one of \"before\" and \"after\" "
            "(integers >= 0) and \"limit\" 1 to 200");
  EXPECT_EQ(message_of(parser.parse_text(R"({"type":"conversations","limit":0})")),
            "conversations takes \"limit\" 1 to 200 and a number \"before_ts\"");
}

// A request's views point into the parser: they outlive the frame.
TEST_F(StoreRequest, ViewsDoNotPointIntoTheFrame) {
  std::string frame = R"({"type":"history","with":"1001","cid":"h"})";
  request r = parser.parse_text(frame);
  std::fill(frame.begin(), frame.end(), 'X');
  const auto* h = std::get_if<history_request>(&r);
  ASSERT_NE(h, nullptr) << describe(r);
  EXPECT_EQ(h->with, "1001");
  EXPECT_EQ(h->cid, "h");
}

// --- the parser reuses its memory ------------------------------------------------------------

TEST_F(ClientRequest, ParserIsReusableAcrossFramesOfAnySize) {
  for (int round = 0; round < 3; ++round) {
    std::string big(50000 + round, 'b');
    request r = parser.parse_text(R"({"type":"msg","to":"big","text":")" + big + R"("})");
    ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
    EXPECT_EQ(std::get<msg_request>(r).text, big);
    EXPECT_TRUE(is_error(parser.parse_text("nope"), error_code::bad_json));
    r = parser.parse_text(R"({"type":"msg","to":"small","text":"s","cid":"c"})");
    ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
    EXPECT_EQ(std::get<msg_request>(r).to, "small");
    EXPECT_EQ(std::get<msg_request>(r).text, "s");
    EXPECT_EQ(std::get<msg_request>(r).cid, "c");
  }
}

// --- binary frames ---------------------------------------------------------------------------

// Frames far larger than the usual ones, between small ones: each request reads its own frame.
TEST_F(ClientRequest, ParserServesHugeFramesBetweenSmallOnes) {
  for (std::size_t size : {200000u, 10u, 300000u, 70000u, 65000u, 1000u, 500000u}) {
    std::string text(size, static_cast<char>('a' + size % 26));
    request r = parser.parse_text(R"({"type":"msg","to":"t","text":")" + text + R"(","cid":"c"})");
    ASSERT_TRUE(std::holds_alternative<msg_request>(r)) << describe(r);
    EXPECT_EQ(std::get<msg_request>(r).text, text);
    EXPECT_EQ(std::get<msg_request>(r).to, "t");
    EXPECT_EQ(std::get<msg_request>(r).cid, "c");
  }
}

TEST_F(ClientRequest, FileFromTheProtocol) {
  const std::string payload = std::string("\x89PNG\r\n\x1a\n\0\xFF", 10);
  // The payload view points into the frame, so the frame outlives the request.
  const std::string frame =
      binary_frame(R"({"to":"6001","name":"cat.png","mime":"image/png","cid":"c2"})", payload);
  request r = parser.parse_binary(frame);
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->to, "6001");
  EXPECT_EQ(f->name, "cat.png");
  EXPECT_EQ(f->mime, "image/png");
  EXPECT_EQ(f->cid, "c2");
  EXPECT_EQ(f->payload, payload);
}

TEST_F(ClientRequest, FileWithOnlyTo) {
  for (const char* header :
       {R"({"to":"6001"})", R"({"to":"6001","name":null,"mime":null,"cid":null})"}) {
    const std::string frame = binary_frame(header);
    request r = parser.parse_binary(frame);
    const auto* f = std::get_if<file_request>(&r);
    ASSERT_NE(f, nullptr) << describe(r);
    EXPECT_EQ(f->to, "6001");
    EXPECT_EQ(f->name, std::nullopt);
    EXPECT_EQ(f->mime, std::nullopt);
    EXPECT_EQ(f->cid, std::nullopt);
    EXPECT_EQ(f->payload, "");
  }
}

TEST_F(ClientRequest, FileHeaderLengthIsBigEndian) {
  std::string header = R"({"to":"6001","name":")" + std::string(250, 'n') + R"("})";
  ASSERT_GT(header.size(), 255u);
  std::string frame = binary_frame(header, "PAYLOAD");
  EXPECT_EQ(static_cast<unsigned char>(frame[0]), header.size() >> 8);
  request r = parser.parse_binary(frame);
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->name, std::string(250, 'n'));
  EXPECT_EQ(f->payload, "PAYLOAD");
}

TEST_F(ClientRequest, FileHeaderLengthPastTheEndIsBadRequest) {
  EXPECT_TRUE(is_error(parser.parse_binary(""), error_code::bad_request));
  EXPECT_TRUE(is_error(parser.parse_binary(bytes({0x00})), error_code::bad_request));
  std::string header = R"({"to":"6001","cid":"c"})";
  std::string frame = binary_frame(header);
  frame[1] = static_cast<char>(header.size() + 1);
  EXPECT_TRUE(is_error(parser.parse_binary(frame), error_code::bad_request));
  EXPECT_TRUE(is_error(parser.parse_binary(bytes({0xFF, 0xFF}) + header), error_code::bad_request));
  EXPECT_TRUE(is_error(parser.parse_binary(bytes({0x00, 0x01})), error_code::bad_request));
}

TEST_F(ClientRequest, FileHeaderEndingTheFrameLeavesAnEmptyPayload) {
  const std::string frame = binary_frame(R"({"to":"6001"})");
  request r = parser.parse_binary(frame);
  ASSERT_TRUE(std::holds_alternative<file_request>(r)) << describe(r);
  EXPECT_TRUE(std::get<file_request>(r).payload.empty());
}

TEST_F(ClientRequest, FileHeaderThatIsNotAJsonObjectIsBadJson) {
  for (std::string header :
       {std::string(), std::string("x"), std::string(R"(["6001"])"), std::string(R"("6001")"),
        std::string(R"({"to":"6001")"),
        std::string("\xEF\xBB\xBF{\"to\":\"6001\"}"),  // byte order mark
        std::string("{\"to\":\"6001\",\"name\":\"\xFF\"}"),
        std::string("{\"to\":\"6001\",\"name\":\"\xED\xA0\x80\"}"),
        std::string(R"({"to":"6001","name":"\uD800"})"), std::string(R"({"to":"6001","n":NaN})")}) {
    EXPECT_TRUE(is_error(parser.parse_binary(binary_frame(header, "data")), error_code::bad_json))
        << header;
  }
  std::string deep =
      R"({"to":"6001","x":)" + std::string(32, '[') + "0" + std::string(32, ']') + "}";
  EXPECT_TRUE(is_error(parser.parse_binary(binary_frame(deep)), error_code::bad_json));
  std::string ok = R"({"to":"6001","x":)" + std::string(31, '[') + "0" + std::string(31, ']') + "}";
  EXPECT_TRUE(std::holds_alternative<file_request>(parser.parse_binary(binary_frame(ok))));
}

// The header alone must be JSON: the payload after it may be anything.
TEST_F(ClientRequest, FilePayloadIsNotParsed) {
  const std::string frame = binary_frame(R"({"to":"6001"})", bytes({0xFF, '}', 0x00, '{'}));
  request r = parser.parse_binary(frame);
  ASSERT_TRUE(std::holds_alternative<file_request>(r)) << describe(r);
  EXPECT_EQ(std::get<file_request>(r).payload, bytes({0xFF, '}', 0x00, '{'}));
}

TEST_F(ClientRequest, FileHeaderFieldRules) {
  struct header_case {
    std::string header;
    optional_cid cid;
  };
  const header_case bad[] = {
      {R"({"name":"a","cid":"c"})", "c"},
      {R"({"to":null,"cid":"c"})", "c"},
      {R"({"to":6001,"cid":"c"})", "c"},
      {R"({"to":")" + std::string(65, 't') + R"(","cid":"c"})", "c"},
      {R"({"to":"6001","name":5,"cid":"c"})", "c"},
      {R"({"to":"6001","name":")" + std::string(256, 'n') + R"(","cid":"c"})", "c"},
      {R"({"to":"6001","mime":["image/png"],"cid":"c"})", "c"},
      {R"({"to":"6001","mime":")" + std::string(128, 'm') + R"(","cid":"c"})", "c"},
      {R"({"to":"6001","cid":7})", std::nullopt},
      {R"({"to":"6001","cid":")" + std::string(65, 'c') + R"("})", std::nullopt},
  };
  for (const auto& c : bad) {
    EXPECT_TRUE(
        is_error(parser.parse_binary(binary_frame(c.header)), error_code::bad_request, c.cid))
        << c.header;
  }
  request r = parser.parse_binary(binary_frame(R"({"to":"6001","name":")" + std::string(255, 'n') +
                                               R"(","mime":")" + std::string(127, 'm') + R"("})"));
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->name->size(), 255u);
  EXPECT_EQ(f->mime->size(), 127u);
}

TEST_F(ClientRequest, FileHeaderIgnoresUnknownFields) {
  const std::string frame = binary_frame(R"({"type":"msg","to":"6001","size":12,"x":[{}]})", "z");
  request r = parser.parse_binary(frame);
  const auto* f = std::get_if<file_request>(&r);
  ASSERT_NE(f, nullptr) << describe(r);
  EXPECT_EQ(f->to, "6001");
  EXPECT_EQ(f->payload, "z");
}

}  // namespace
}  // namespace parley::protocol

// Regression: the parser's memory must not grow from one large frame to the next (a burst of
// 16 KB texts once made it ask for 4x more each time, until allocation failed).
TEST(request_parser_memory, many_large_frames_in_a_row) {
  parley::protocol::request_parser parser;
  std::string text = R"({"type":"msg","to":"6001","text":")" + std::string(16 * 1024, 'x') + "\"}";
  for (int i = 0; i < 200; ++i) {
    auto request = parser.parse_text(text);
    ASSERT_TRUE(std::holds_alternative<parley::protocol::msg_request>(request)) << i;
  }
}
