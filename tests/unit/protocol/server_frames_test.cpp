#include "parley/protocol/server_frames.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/frames.hpp"

namespace parley::protocol {
namespace {

using test::decode_server_frame;
using test::frame_json;
using test::json_object;

// The text payload of a frame, checked to be one final text frame.
std::string text_of(const shared_frame& frame) {
  test::decoded_frame d = decode_server_frame(frame);
  EXPECT_EQ(d.first_byte, 0x81);
  return d.payload;
}

// The objects of protocol.md's table, byte for byte.
TEST(ServerFrames, Welcome) {
  EXPECT_EQ(text_of(welcome_frame("1001", 1732560000123)),
            R"({"type":"welcome","id":"1001","server_time":1732560000123})");
}

TEST(ServerFrames, ChatMessage) {
  EXPECT_EQ(
      text_of(chat_message_frame("1001", "6001", "hello", "m-1", 1732560000123)),
      R"({"type":"msg","from":"1001","to":"6001","text":"hello","mid":"m-1","ts":1732560000123})");
}

TEST(ServerFrames, Ack) {
  EXPECT_EQ(text_of(ack_frame("c1", "m-1")),
            R"({"type":"ack","cid":"c1","mid":"m-1","status":"delivered"})");
}

TEST(ServerFrames, OfflineError) {
  EXPECT_EQ(
      text_of(error_frame(error_code::offline, "c1", "Client #6001 is not online", "6001")),
      R"({"type":"error","code":"offline","cid":"c1","to":"6001","message":"Client #6001 is not online"})");
}

TEST(ServerFrames, ErrorWithoutCidOrTo) {
  EXPECT_EQ(text_of(error_frame(error_code::bad_json, std::nullopt, "not valid JSON")),
            R"({"type":"error","code":"bad_json","message":"not valid JSON"})");
  EXPECT_EQ(frame_json(error_frame(error_code::too_large, std::nullopt, "x")),
            json_object(R"({"type":"error","code":"too_large","message":"x"})"));
  EXPECT_EQ(frame_json(error_frame(error_code::unknown_type, "", "x")),
            json_object(R"({"type":"error","code":"unknown_type","cid":"","message":"x"})"));
}

TEST(ServerFrames, Left) {
  EXPECT_EQ(text_of(left_frame("1001")), R"({"type":"left","id":"1001"})");
}

TEST(ServerFrames, Who) {
  std::vector<std::string_view> online = {"6001", "6002"};
  EXPECT_EQ(text_of(who_frame(online, 2, std::nullopt)),
            R"({"type":"who","online":["6001","6002"],"total":2})");
  EXPECT_EQ(frame_json(who_frame(online, 1500, "c9")),
            json_object(R"({"type":"who","online":["6001","6002"],"total":1500,"cid":"c9"})"));
  EXPECT_EQ(frame_json(who_frame({}, 0, std::nullopt)),
            json_object(R"({"type":"who","online":[],"total":0})"));
}

TEST(ServerFrames, Presence) {
  EXPECT_EQ(text_of(presence_frame("6001", true)),
            R"({"type":"presence","id":"6001","online":true})");
  EXPECT_EQ(text_of(presence_frame("6001", false)),
            R"({"type":"presence","id":"6001","online":false})");
}

TEST(ServerFrames, Typing) {
  EXPECT_EQ(text_of(typing_frame("1001")), R"({"type":"typing","from":"1001"})");
}

TEST(ServerFrames, Pong) {
  EXPECT_EQ(text_of(pong_frame(1732560000123, std::nullopt)),
            R"({"type":"pong","server_time":1732560000123})");
  EXPECT_EQ(frame_json(pong_frame(5, "p1")),
            json_object(R"({"type":"pong","server_time":5,"cid":"p1"})"));
}

// What a client sent comes back as the same string, whatever it holds.
TEST(ServerFrames, ClientTextIsEscaped) {
  const std::string text = "say \"hi\"\\\n\t\x01 caf\xC3\xA9 \xF0\x9F\x98\x80 </script>";
  boost::json::object o = frame_json(chat_message_frame("a", "b", text, "m", 1));
  EXPECT_EQ(o.at("text").as_string(), text);
  o = frame_json(ack_frame("\"c\"", "m"));
  EXPECT_EQ(o.at("cid").as_string(), "\"c\"");
  o = frame_json(error_frame(error_code::offline, "c\n", "m", "x\"y"));
  EXPECT_EQ(o.at("cid").as_string(), "c\n");
  EXPECT_EQ(o.at("to").as_string(), "x\"y");
}

// Long messages take the 16- and 64-bit length forms (checked by the decoder).
TEST(ServerFrames, LongTextMessage) {
  for (std::size_t n : {100u, 65536u, 200000u}) {
    std::string text(n, 'x');
    boost::json::object o = frame_json(chat_message_frame("1001", "6001", text, "m", 7));
    EXPECT_EQ(o.at("text").as_string(), text) << n;
  }
}

TEST(ServerFrames, FileFrameLayout) {
  const std::string payload = std::string("\x89PNG\r\n\x1a\n\0\xFF", 10);
  shared_frame f =
      file_frame({"1001", "6001", "cat.png", "image/png", "m-2", 1732560000123}, payload);
  test::decoded_frame d = decode_server_frame(f);
  ASSERT_EQ(d.first_byte, 0x82);
  const std::string header =
      R"({"from":"1001","to":"6001","name":"cat.png","mime":"image/png","mid":"m-2","ts":1732560000123})";
  ASSERT_EQ(header.size(), 94u);
  EXPECT_EQ(d.payload, std::string("\x00\x5E", 2) + header + payload);
}

TEST(ServerFrames, FileFrameLeavesOutAbsentNameAndMime) {
  test::decoded_file f = test::file_json(file_frame({"1001", "6001", {}, {}, "m", 5}, "data"));
  EXPECT_EQ(f.header, json_object(R"({"from":"1001","to":"6001","mid":"m","ts":5})"));
  EXPECT_EQ(f.payload, "data");
  f = test::file_json(file_frame({"1001", "6001", {}, "text/plain", "m", 5}, ""));
  EXPECT_EQ(f.header,
            json_object(R"({"from":"1001","to":"6001","mime":"text/plain","mid":"m","ts":5})"));
  EXPECT_EQ(f.payload, "");
}

// The longest header the protocol allows, every byte escaped: the 2-byte length must hold it,
// big-endian.
TEST(ServerFrames, FileFrameWithTheLongestHeader) {
  std::string id(64, '"');
  std::string name(255, '\x01');  // each becomes \u0001, six bytes
  std::string mime(127, '\\');
  std::string payload(70000, 'p');
  shared_frame f = file_frame({id, id, name, mime, "mid", 9}, payload);
  test::decoded_frame d = decode_server_frame(f);
  ASSERT_EQ(d.first_byte, 0x82);
  std::size_t h = (std::size_t{static_cast<unsigned char>(d.payload[0])} << 8) |
                  static_cast<unsigned char>(d.payload[1]);
  EXPECT_GT(h, 255u);  // so the high byte matters
  test::decoded_file file = test::file_json(f);
  EXPECT_EQ(file.header.at("from").as_string(), id);
  EXPECT_EQ(file.header.at("name").as_string(), name);
  EXPECT_EQ(file.header.at("mime").as_string(), mime);
  EXPECT_TRUE(file.payload == payload);
}

TEST(ServerFrames, FileFramePayloadIsByteForByte) {
  std::string payload;
  for (int i = 0; i < 256 * 4; ++i)
    payload.push_back(static_cast<char>(i));
  test::decoded_file f = test::file_json(file_frame({"a", "b", "n", "m", "id", 1}, payload));
  EXPECT_EQ(f.payload, payload);
}

}  // namespace
}  // namespace parley::protocol
