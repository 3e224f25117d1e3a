#include "parley/core/chat_connection.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/core/clock.hpp"
#include "parley/core/hub.hpp"
#include "support/frames.hpp"

namespace parley::core {
namespace {

using test::json_object;
using test::recording_sink;
using json_list = std::vector<boost::json::object>;

// A client: its connection object and the sink that records what it is sent. (In the server
// the sink owns the connection; here both live side by side.)
struct client {
  client(const chat_services& services, const std::string& id)
      : out(std::make_shared<recording_sink>()), conn(services, id, *out) {}
  void open() { conn.open(); }
  std::shared_ptr<recording_sink> out;
  chat_connection conn;
};

class ChatConnection : public testing::Test {
 protected:
  // An open connection with its welcome already checked and dropped.
  std::unique_ptr<client> open(const std::string& id) {
    auto c = std::make_unique<client>(services, id);
    c->open();
    json_list frames = c->out->take_json();
    EXPECT_EQ(frames.size(), 1u);
    return c;
  }

  // The number of error frames sent with this code.
  std::uint64_t errors(protocol::error_code code) const {
    return stats.errors[static_cast<std::size_t>(code)].get();
  }

  hub h;
  protocol::request_parser parser;
  chat_limits limits;
  counters stats;
  chat_services services{h, nullptr, parser, limits, stats};
};

// A frame as JSON, with the server-set fields (mid, ts, server_time) checked and removed.
boost::json::object without_server_fields(boost::json::object o, std::int64_t before) {
  std::int64_t after = unix_millis();
  for (const char* time : {"ts", "server_time"}) {
    if (auto* t = o.if_contains(time)) {
      EXPECT_TRUE(t->is_int64()) << time;
      if (t->is_int64()) {
        EXPECT_GE(t->as_int64(), before);
        EXPECT_LE(t->as_int64(), after);
      }
      o.erase(time);
    }
  }
  if (auto* mid = o.if_contains("mid")) {
    EXPECT_TRUE(mid->is_string() && !mid->as_string().empty());
    o.erase("mid");
  }
  return o;
}

TEST_F(ChatConnection, OpenSendsWelcomeFirstThenJoins) {
  std::int64_t before = unix_millis();
  client c(services, "1001");
  EXPECT_EQ(h.connection_count(), 0u);
  c.open();
  json_list frames = c.out->take_json();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(without_server_fields(frames[0], before),
            json_object(R"({"type":"welcome","id":"1001"})"));
  EXPECT_TRUE(frames[0].contains("server_time"));
  EXPECT_EQ(h.connection_count(), 1u);
  EXPECT_EQ(c.conn.id(), "1001");
}

// protocol.md: msg to one id, ack to the sender, the same object to the recipient and to the
// sender's other connections.
TEST_F(ChatConnection, MessageAckAndCopies) {
  std::int64_t before = unix_millis();
  auto sender = open("1001");
  auto sender_tab = open("1001");
  auto recipient = open("6001");
  auto recipient_tab = open("6001");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"hello","cid":"c1"})");

  json_list got = recipient->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  boost::json::object msg = got[0];
  EXPECT_EQ(without_server_fields(msg, before),
            json_object(R"({"type":"msg","from":"1001","to":"6001","text":"hello"})"));
  EXPECT_FALSE(msg.contains("cid"));  // a cid is echoed only to its sender

  EXPECT_EQ(recipient_tab->out->take_json(), json_list{msg});
  EXPECT_EQ(sender_tab->out->take_json(), json_list{msg});

  json_list acks = sender->out->take_json();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0],
            json_object(R"({"type":"ack","cid":"c1","mid":")" +
                        std::string(msg.at("mid").as_string()) + R"(","status":"delivered"})"));
}

TEST_F(ChatConnection, OneFrameIsSharedByAllRecipients) {
  auto sender = open("1001");
  auto sender_tab = open("1001");
  auto recipient = open("6001");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"x"})");
  ASSERT_EQ(recipient->out->count(), 1u);
  ASSERT_EQ(sender_tab->out->count(), 1u);
  EXPECT_EQ(recipient->out->frames()[0], sender_tab->out->frames()[0]);
}

TEST_F(ChatConnection, NoAckWithoutCid) {
  auto sender = open("1001");
  auto recipient = open("6001");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"hello"})");
  EXPECT_EQ(recipient->out->count(), 1u);
  EXPECT_EQ(sender->out->count(), 0u);
}

TEST_F(ChatConnection, EachMessageHasItsOwnMid) {
  auto sender = open("1001");
  auto recipient = open("6001");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"1","cid":"a"})");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"2","cid":"b"})");
  json_list got = recipient->out->take_json();
  json_list acks = sender->out->take_json();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_NE(got[0].at("mid"), got[1].at("mid"));
  EXPECT_EQ(acks[0].at("mid"), got[0].at("mid"));
  EXPECT_EQ(acks[1].at("mid"), got[1].at("mid"));
  EXPECT_EQ(acks[0].at("cid"), "a");
  EXPECT_EQ(acks[1].at("cid"), "b");
  EXPECT_EQ(got[0].at("text"), "1");
  EXPECT_EQ(got[1].at("text"), "2");
}

TEST_F(ChatConnection, MessageToOneself) {
  auto me = open("1001");
  auto my_tab = open("1001");
  me->conn.on_text(R"({"type":"msg","to":"1001","text":"note","cid":"n"})");
  json_list mine = me->out->take_json();
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].at("type"), "msg");
  EXPECT_EQ(mine[0].at("from"), "1001");
  EXPECT_EQ(mine[0].at("to"), "1001");
  EXPECT_EQ(mine[1].at("type"), "ack");
  EXPECT_EQ(mine[1].at("mid"), mine[0].at("mid"));
  EXPECT_EQ(my_tab->out->take_json(), json_list{mine[0]});
}

TEST_F(ChatConnection, MessageToAnOfflineId) {
  auto sender = open("1001");
  auto sender_tab = open("1001");
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"hello","cid":"c1"})");
  EXPECT_EQ(
      sender->out->take_json(),
      json_list{json_object(
          R"({"type":"error","code":"offline","cid":"c1","to":"6001","message":"Client #6001 is not online"})")});
  EXPECT_EQ(sender_tab->out->count(), 0u);  // nothing was delivered, not even the copy

  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"hello"})");
  EXPECT_EQ(
      sender->out->take_json(),
      json_list{json_object(
          R"({"type":"error","code":"offline","to":"6001","message":"Client #6001 is not online"})")});
}

TEST_F(ChatConnection, RecipientLeftBeforeTheMessage) {
  auto sender = open("1001");
  auto recipient = std::make_unique<client>(services, "6001");
  recipient->open();
  recipient->conn.close();
  sender->conn.on_text(R"({"type":"msg","to":"6001","text":"late","cid":"c"})");
  json_list got = sender->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("code"), "offline");
}

// --- errors: the connection stays usable ---------------------------------------------------

TEST_F(ChatConnection, ErrorsAreAnsweredAndTheConnectionStaysOpen) {
  auto c = open("1001");
  c->conn.on_text("not json");
  c->conn.on_text(R"({"type":"msg","cid":"c2"})");
  c->conn.on_text(R"({"type":"dance","cid":"c3"})");
  c->conn.on_text(R"({"type":"ping","cid":"c4"})");
  json_list got = c->out->take_json();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].at("type"), "error");
  EXPECT_EQ(got[0].at("code"), "bad_json");
  EXPECT_FALSE(got[0].contains("cid"));
  EXPECT_TRUE(got[0].at("message").is_string());
  EXPECT_EQ(got[1].at("code"), "bad_request");
  EXPECT_EQ(got[1].at("cid"), "c2");
  EXPECT_EQ(got[2].at("code"), "unknown_type");
  EXPECT_EQ(got[2].at("cid"), "c3");
  EXPECT_EQ(got[3].at("type"), "pong");
  EXPECT_EQ(got[3].at("cid"), "c4");
  EXPECT_EQ(h.connection_count(), 1u);
}

TEST_F(ChatConnection, EveryErrorFrameIsCountedByCode) {
  using protocol::error_code;
  auto c = open("1001");
  c->conn.on_text("not json");
  c->conn.on_text("[]");
  c->conn.on_text(R"({"type":"msg"})");
  c->conn.on_text(R"({"type":"dance"})");
  c->conn.on_text(R"({"type":"msg","to":"6001","text":"x"})");
  c->conn.on_binary(std::string("\x00\x0d{\"to\":\"6001\"}", 15));
  c->conn.on_text_too_large(100000);
  c->conn.on_text(R"({"type":"ping"})");  // not an error
  EXPECT_EQ(c->out->count(), 8u);
  EXPECT_EQ(errors(error_code::bad_json), 2u);
  EXPECT_EQ(errors(error_code::bad_request), 1u);
  EXPECT_EQ(errors(error_code::unknown_type), 1u);
  EXPECT_EQ(errors(error_code::offline), 2u);
  EXPECT_EQ(errors(error_code::too_large), 1u);
  EXPECT_EQ(errors(error_code::rate_limited), 0u);
  EXPECT_EQ(errors(error_code::forbidden), 0u);
}

TEST_F(ChatConnection, TooLargeText) {
  limits.max_text_bytes = 65536;
  auto c = open("1001");
  c->conn.on_text_too_large(70000);
  json_list got = c->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("type"), "error");
  EXPECT_EQ(got[0].at("code"), "too_large");
  EXPECT_FALSE(got[0].contains("cid"));
  std::string message(got[0].at("message").as_string());
  EXPECT_NE(message.find("70000"), std::string::npos) << message;
  EXPECT_NE(message.find("65536"), std::string::npos) << message;
}

// --- ping, who, typing, watch ----------------------------------------------------------------

TEST_F(ChatConnection, PingIsAnsweredWithPong) {
  std::int64_t before = unix_millis();
  auto c = open("1001");
  c->conn.on_text(R"({"type":"ping"})");
  c->conn.on_text(R"({"type":"ping","cid":"p1"})");
  json_list got = c->out->take_json();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(without_server_fields(got[0], before), json_object(R"({"type":"pong"})"));
  EXPECT_EQ(without_server_fields(got[1], before), json_object(R"({"type":"pong","cid":"p1"})"));
  EXPECT_TRUE(got[0].contains("server_time"));
}

TEST_F(ChatConnection, WhoListsOnlineIds) {
  auto a = open("1001");
  auto a2 = open("1001");
  auto b = open("6001");
  a->conn.on_text(R"({"type":"who","cid":"w"})");
  json_list got = a->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("type"), "who");
  EXPECT_EQ(got[0].at("total"), 2);
  EXPECT_EQ(got[0].at("cid"), "w");
  std::vector<std::string> ids;
  for (const auto& v : got[0].at("online").as_array())
    ids.emplace_back(v.as_string());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"1001", "6001"}));

  b->conn.on_text(R"({"type":"who"})");
  got = b->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].contains("cid"));
}

TEST_F(ChatConnection, WhoListsAtMostMaxWhoIds) {
  limits.max_who_ids = 2;
  std::vector<std::unique_ptr<client>> all;
  for (int i = 0; i < 5; ++i)
    all.push_back(open("id" + std::to_string(i)));
  all[0]->conn.on_text(R"({"type":"who"})");
  json_list got = all[0]->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("online").as_array().size(), 2u);
  EXPECT_EQ(got[0].at("total"), 5);
  EXPECT_EQ(chat_limits{}.max_who_ids, 1000u);
}

TEST_F(ChatConnection, TypingReachesTheRecipientOnly) {
  auto a = open("1001");
  auto a2 = open("1001");
  auto b = open("6001");
  a->conn.on_text(R"({"type":"typing","to":"6001","cid":"t"})");
  EXPECT_EQ(b->out->take_json(), json_list{json_object(R"({"type":"typing","from":"1001"})")});
  EXPECT_EQ(a->out->count(), 0u);  // no ack, even with a cid
  EXPECT_EQ(a2->out->count(), 0u);
  a->conn.on_text(R"({"type":"typing","to":"nobody"})");
  EXPECT_EQ(a->out->count(), 0u);  // and no offline error
}

TEST_F(ChatConnection, TypingMakesNoPartner) {
  auto a = open("1001");
  auto b = open("6001");
  a->conn.on_text(R"({"type":"typing","to":"6001"})");
  b->out->clear();
  a->conn.close();
  EXPECT_EQ(b->out->count(), 0u);
}

TEST_F(ChatConnection, WatchReportsPresenceNowAndOnChange) {
  auto w = open("w");
  auto x = open("6001");
  w->conn.on_text(R"({"type":"watch","ids":["6001","6002"],"cid":"c"})");
  EXPECT_EQ(w->out->take_json(),
            (json_list{json_object(R"({"type":"presence","id":"6001","online":true})"),
                       json_object(R"({"type":"presence","id":"6002","online":false})")}));
  auto y = open("6002");
  EXPECT_EQ(w->out->take_json(),
            json_list{json_object(R"({"type":"presence","id":"6002","online":true})")});
  x->conn.close();
  EXPECT_EQ(w->out->take_json(),
            json_list{json_object(R"({"type":"presence","id":"6001","online":false})")});
}

TEST_F(ChatConnection, WatchIsBoundedPerConnection) {
  limits.max_watched_ids = 3;
  auto w = open("w");
  w->conn.on_text(R"({"type":"watch","ids":["a","b"]})");
  EXPECT_EQ(w->out->take_json().size(), 2u);
  // Ids already watched do not count again.
  w->conn.on_text(R"({"type":"watch","ids":["a","b","c"]})");
  EXPECT_EQ(w->out->take_json().size(), 3u);
  w->conn.on_text(R"({"type":"watch","ids":["a","d"],"cid":"c9"})");
  json_list got = w->out->take_json();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].at("code"), "bad_request");
  EXPECT_EQ(got[0].at("cid"), "c9");
  // The refused watch added nothing.
  auto d = open("d");
  EXPECT_EQ(w->out->count(), 0u);
}

// --- files -----------------------------------------------------------------------------------

std::string binary_frame(std::string_view header, std::string_view payload) {
  std::string out = {static_cast<char>(header.size() >> 8),
                     static_cast<char>(header.size() & 0xFF)};
  out += header;
  out += payload;
  return out;
}

TEST_F(ChatConnection, FileGoesToTheRecipientAndTheSendersOtherConnections) {
  std::int64_t before = unix_millis();
  auto sender = open("1001");
  auto sender_tab = open("1001");
  auto recipient = open("6001");
  const std::string payload("\x89PNG\r\n\x1a\n\0\xFF", 10);
  sender->conn.on_binary(
      binary_frame(R"({"to":"6001","name":"cat.png","mime":"image/png","cid":"c2"})", payload));

  ASSERT_EQ(recipient->out->count(), 1u);
  test::decoded_file file = test::file_json(recipient->out->frames()[0]);
  EXPECT_EQ(without_server_fields(file.header, before),
            json_object(R"({"from":"1001","to":"6001","name":"cat.png","mime":"image/png"})"));
  EXPECT_TRUE(file.header.contains("mid"));
  EXPECT_TRUE(file.header.contains("ts"));
  EXPECT_EQ(file.payload, payload);
  ASSERT_EQ(sender_tab->out->count(), 1u);
  EXPECT_EQ(sender_tab->out->frames()[0], recipient->out->frames()[0]);

  EXPECT_EQ(sender->out->take_json(),
            json_list{json_object(R"({"type":"ack","cid":"c2","mid":")" +
                                  std::string(file.header.at("mid").as_string()) +
                                  R"(","status":"delivered"})")});
}

TEST_F(ChatConnection, FileWithoutNameOrMime) {
  auto sender = open("1001");
  auto recipient = open("6001");
  sender->conn.on_binary(binary_frame(R"({"to":"6001"})", "bytes"));
  ASSERT_EQ(recipient->out->count(), 1u);
  test::decoded_file file = test::file_json(recipient->out->frames()[0]);
  EXPECT_FALSE(file.header.contains("name"));
  EXPECT_FALSE(file.header.contains("mime"));
  EXPECT_FALSE(file.header.contains("cid"));
  EXPECT_EQ(file.payload, "bytes");
  EXPECT_EQ(sender->out->count(), 0u);
}

TEST_F(ChatConnection, FileToAnOfflineIdAndBadFiles) {
  auto sender = open("1001");
  sender->conn.on_binary(binary_frame(R"({"to":"6001","cid":"c2"})", "x"));
  sender->conn.on_binary(binary_frame(R"([1])", "x"));
  sender->conn.on_binary(binary_frame(R"({"name":"a","cid":"c3"})", "x"));
  sender->conn.on_binary(std::string("\x00\x50{}", 4));
  json_list got = sender->out->take_json();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(
      got[0],
      json_object(
          R"({"type":"error","code":"offline","cid":"c2","to":"6001","message":"Client #6001 is not online"})"));
  EXPECT_EQ(got[1].at("code"), "bad_json");
  EXPECT_EQ(got[2].at("code"), "bad_request");
  EXPECT_EQ(got[2].at("cid"), "c3");
  EXPECT_EQ(got[3].at("code"), "bad_request");
}

TEST_F(ChatConnection, FileMakesPartners) {
  auto a = open("1001");
  auto b = open("6001");
  a->conn.on_binary(binary_frame(R"({"to":"6001"})", "x"));
  b->out->clear();
  a->conn.close();
  EXPECT_EQ(b->out->take_json(), json_list{json_object(R"({"type":"left","id":"1001"})")});
}

// --- closing ---------------------------------------------------------------------------------

TEST_F(ChatConnection, CloseTellsPartnersOnceWhenTheLastConnectionGoes) {
  auto a = open("1001");
  auto a2 = open("1001");
  auto b = open("6001");
  b->conn.on_text(R"({"type":"msg","to":"1001","text":"hi"})");
  a->out->clear();
  a2->out->clear();
  a->conn.close();
  a->conn.close();
  EXPECT_EQ(b->out->count(), 0u);
  a2.reset();  // the destructor closes too
  EXPECT_EQ(b->out->take_json(), json_list{json_object(R"({"type":"left","id":"1001"})")});
  EXPECT_EQ(h.connection_count(), 1u);
}

}  // namespace
}  // namespace parley::core
