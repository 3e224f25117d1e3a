// The log: --log-format json writes one JSON object per line (time, level, event, and the
// event's fields); text stays one line per event for people. A connection's end is one line
// with its close code, why, who closed it, its duration and its messages in and out; nothing is
// logged per message at info.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "chat_test.hpp"
#include "config_files.hpp"

namespace parley::it {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

class log_format : public ::testing::Test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own log

  // Connects `id`, sends `pings` pings (each answered), waits `hold`, and closes with 1000.
  void session(server_process& server, const std::string& id, int pings, ms hold) {
    ws_client c(ioc_, server.port());
    c.connect(id);
    for (int i = 0; i < pings; ++i) {
      c.send_text(R"({"type":"ping","cid":"p)" + std::to_string(i) + "\"}");
      EXPECT_EQ(type_of(c.read_json()), "pong");
    }
    std::this_thread::sleep_for(hold);
    EXPECT_TRUE(c.close());
    EXPECT_TRUE(server.wait_for_log("disconnect", ms{2000})) << server.log();
  }

  net::io_context ioc_;
};

TEST_F(log_format, json_lines_parse_and_the_close_line_has_duration_and_counts) {
  server_process server({"--log-format", "json"});
  session(server, "alice", 3, ms{200});
  // A refusal, with its fields.
  ws_client refused(ioc_, server.port());
  refused.start("/ws/bob", {{"Origin", "https://elsewhere.example"}});
  EXPECT_FALSE(refused.wait_open());
  ASSERT_TRUE(server.wait_for_log("\"event\":\"refused\"", ms{2000})) << server.log();

  std::optional<json::object> close, connect, refusal, listening;
  for (const std::string& line : lines_of(server.log())) {
    json::value parsed;
    ASSERT_NO_THROW(parsed = json::parse(line)) << line;
    ASSERT_TRUE(parsed.is_object()) << line;
    const json::object& o = parsed.as_object();
    for (const char* key : {"time", "level", "event"})
      EXPECT_TRUE(o.contains(key) && o.at(key).is_string()) << key << " in " << line;
    std::string event(o.at("event").as_string());
    if (event == "disconnect") close = o;
    if (event == "connect") connect = o;
    if (event == "refused") refusal = o;
    if (event == "log" && str(o, "message").starts_with("listening on")) listening = o;
  }
  ASSERT_TRUE(close && connect && refusal && listening) << server.log();
  EXPECT_TRUE(std::regex_match(str(*close, "time"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << to_string(*close);
  EXPECT_EQ(str(*close, "level"), "info");
  EXPECT_EQ(str(*close, "id"), "alice");
  EXPECT_TRUE(str(*close, "peer").starts_with("127.0.0.1:")) << to_string(*close);
  EXPECT_EQ(str(*connect, "peer"), str(*close, "peer"));
  EXPECT_EQ(close->at("code").as_int64(), 1000);
  EXPECT_EQ(str(*close, "reason"), "closed by the client");
  EXPECT_EQ(str(*close, "by"), "client");
  EXPECT_GE(close->at("duration_ms").as_int64(), 200);
  EXPECT_LT(close->at("duration_ms").as_int64(), 5000);
  EXPECT_EQ(close->at("messages_in").as_int64(), 3);
  EXPECT_EQ(close->at("messages_out").as_int64(), 4);  // the welcome and three pongs
  EXPECT_EQ(refusal->at("status").as_int64(), 403);
  EXPECT_TRUE(contains(str(*refusal, "reason"), "origin https://elsewhere.example"));
  EXPECT_EQ(str(*refusal, "target"), "/ws/bob");
}

TEST_F(log_format, text_close_line_says_how_long_and_how_many) {
  server_process server;
  session(server, "carol", 2, ms{0});
  EXPECT_TRUE(std::regex_search(
      server.log(),
      std::regex(R"(info disconnect id=carol peer=127\.0\.0\.1:\d+ code=1000 \(closed by the )"
                 R"(client\) by=client duration_ms=\d+ messages_in=2 messages_out=3\n)")))
      << server.log();
}

TEST_F(log_format, a_close_the_server_began_says_why) {
  server_process server({"--max-messages-per-second", "1", "--max-rate-strikes", "3"});
  std::optional<std::uint16_t> code;
  {
    raw_client flooder(server.port());  // raw: it sends on without waiting for the close
    ASSERT_EQ(flooder.upgrade("/ws/flood").status, 101);
    for (int i = 0; i < 10; ++i)
      flooder.send_frame(1, R"({"type":"ping"})");
    while (auto frame = flooder.read_frame(ms{3000})) {
      if (frame->opcode == 8) {
        code = frame->close_code();
        break;
      }
    }
  }  // the socket closes: the server ends the connection without waiting for its deadline
  EXPECT_EQ(code, 1008);
  EXPECT_TRUE(server.wait_for_log("disconnect id=flood", ms{3000})) << server.log();
  EXPECT_TRUE(contains(server.log(), "code=1008 (over the message rate) by=server"))
      << server.log();
}

TEST_F(log_format, nothing_is_logged_per_message_at_info) {
  server_process server;
  ws_client a(ioc_, server.port()), b(ioc_, server.port());
  a.connect("a");
  b.connect("b");
  ASSERT_TRUE(server.wait_for_log("connect id=b", ms{2000}));
  std::size_t lines = lines_of(server.log()).size();
  for (int i = 0; i < 50; ++i) {
    send_msg(a, "b", "hello " + std::to_string(i), "c" + std::to_string(i));
    EXPECT_EQ(type_of(b.read_json()), "msg");
  }
  a.send_text(R"({"type":"who"})");
  EXPECT_EQ(type_of(a.read_json()), "who");
  EXPECT_EQ(lines_of(server.log()).size(), lines) << server.log();
}

}  // namespace
}  // namespace parley::it
