#include "parley/protocol/json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace parley::protocol {
namespace {

TEST(JsonWriter, EmptyObject) {
  std::string out;
  json_writer(out).finish();
  EXPECT_EQ(out, "{}");
}

TEST(JsonWriter, FieldsInOrderWithCommas) {
  std::string out;
  json_writer w(out);
  w.string_field("type", "welcome")
      .string_field("id", "1001")
      .int_field("server_time", 1732560000123);
  w.bool_field("online", true).bool_field("away", false);
  w.finish();
  EXPECT_EQ(
      out,
      R"({"type":"welcome","id":"1001","server_time":1732560000123,"online":true,"away":false})");
}

TEST(JsonWriter, AppendsAfterWhatTheStringHolds) {
  std::string out = "prefix";
  json_writer(out).string_field("a", "b").finish();
  EXPECT_EQ(out, R"(prefix{"a":"b"})");
}

TEST(JsonWriter, IntegersAtTheirLimits) {
  std::string out;
  json_writer w(out);
  w.int_field("zero", 0).int_field("neg", -1);
  w.int_field("min", std::numeric_limits<std::int64_t>::min());
  w.int_field("max", std::numeric_limits<std::int64_t>::max());
  w.finish();
  EXPECT_EQ(out, R"({"zero":0,"neg":-1,"min":-9223372036854775808,"max":9223372036854775807})");
}

TEST(JsonWriter, Arrays) {
  std::string out;
  json_writer w(out);
  w.open_array("empty").close_array();
  w.open_array("one").array_item("6001").close_array();
  w.open_array("two").array_item("6001").array_item("6002").close_array();
  w.int_field("total", 2);
  w.finish();
  EXPECT_EQ(out, R"({"empty":[],"one":["6001"],"two":["6001","6002"],"total":2})");
}

// The object `{"s":<value escaped>}`.
std::string escaped_field(std::string_view value) {
  std::string out;
  json_writer(out).string_field("s", value).finish();
  return out;
}

TEST(JsonWriter, EscapesQuoteBackslashAndControls) {
  EXPECT_EQ(escaped_field("a\"b\\c\nd\re\tf\bg\fh"), R"({"s":"a\"b\\c\nd\re\tf\bg\fh"})");
  EXPECT_EQ(escaped_field(std::string("\x00\x01\x1f\x7f", 4)),
            "{\"s\":\"\\u0000\\u0001\\u001f\x7f\"}");
  EXPECT_EQ(escaped_field(""), R"({"s":""})");
  EXPECT_EQ(escaped_field(std::string_view()), R"({"s":""})");
}

TEST(JsonWriter, Utf8PassesThroughUnchanged) {
  EXPECT_EQ(escaped_field("caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8"),
            "{\"s\":\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8\"}");
}

// The writer grows its string ahead of the object; finish() leaves only the object, after
// whatever the string held before.
TEST(JsonWriter, AppendsAfterExistingBytesAndLeavesNoSpare) {
  std::string out = "prefix";
  json_writer(out).string_field("t", std::string(1000, 'x')).finish();
  EXPECT_EQ(out, "prefix{\"t\":\"" + std::string(1000, 'x') + "\"}");
  out = "p";
  { json_writer(out).string_field("t", "x"); }  // no finish: spare bytes still trimmed
  EXPECT_EQ(out, "p{\"t\":\"x\"");
}

// Plain text is skipped in blocks of 16 and 8 bytes: a byte to escape is found at every
// offset of a block and of the tail, and bytes over 0x7F (UTF-8) are never escaped.
TEST(JsonWriter, FindsTheByteToEscapeAtEveryOffset) {
  for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (std::size_t at = 0; at < 40; ++at) {
      std::string text;  // 'a's, "é" (bytes over 0x7F) every 4 bytes, `special` at `at`
      while (text.size() < 40) {
        if (text.size() == at)
          text += special;
        else if (text.size() % 4 == 0 && text.size() + 1 != at)
          text += "\xC3\xA9";
        else
          text += 'a';
      }
      std::string out;
      json_writer(out).string_field("s", text).finish();
      EXPECT_EQ(boost::json::parse(out).at("s").as_string(), text) << int(special) << " at " << at;
      EXPECT_EQ(out.size(), 8 + text.size() + (special == '\x01' || special == '\x1f' ? 5 : 1))
          << int(special) << " at " << at;
    }
  }
}

// Whatever a string holds, a JSON parser reads back the same string.
TEST(JsonWriter, EveryAsciiByteRoundTrips) {
  std::string all;
  for (int c = 0; c < 128; ++c)
    all.push_back(static_cast<char>(c));
  all += "\"\\\"\\";  // escapes back to back
  std::string out;
  json_writer(out).string_field("s", all).open_array("a").array_item(all).close_array().finish();
  boost::json::value v = boost::json::parse(out);
  EXPECT_EQ(v.at("s").as_string(), all);
  EXPECT_EQ(v.at("a").as_array().at(0).as_string(), all);
}

TEST(JsonWriter, LongStringWithEscapesEverywhere) {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += i % 3 ? "ab" : "\"\n\\";
  std::string out;
  json_writer(out).string_field("text", text).finish();
  EXPECT_EQ(boost::json::parse(out).at("text").as_string(), text);
}

}  // namespace
}  // namespace parley::protocol
