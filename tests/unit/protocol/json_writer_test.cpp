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

TEST(JsonWriter, EscapesQuoteBackslashAndControls) {
  std::string out;
  json_writer::append_escaped(out, "a\"b\\c\nd\re\tf\bg\fh");
  EXPECT_EQ(out, R"("a\"b\\c\nd\re\tf\bg\fh")");
  out.clear();
  json_writer::append_escaped(out, std::string("\x00\x01\x1f\x7f", 4));
  EXPECT_EQ(out, "\"\\u0000\\u0001\\u001f\x7f\"");
  out.clear();
  json_writer::append_escaped(out, "");
  EXPECT_EQ(out, "\"\"");
}

TEST(JsonWriter, Utf8PassesThroughUnchanged) {
  std::string out;
  json_writer::append_escaped(out, "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x80\xA8\"");
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
