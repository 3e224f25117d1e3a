// Who is told when someone goes: `left` to chat partners only when an id's last connection
// closes (clean close or TCP reset), and watch/presence.
#include "chat_test.hpp"

#include <sys/socket.h>

#include <cstdio>

namespace parley::it {
namespace {

class presence : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--threads", "2"}); }
  static void TearDownTestSuite() { stop_server(); }

  static void expect_left(const json::object& m, const std::string& id) {
    EXPECT_EQ(type_of(m), "left") << to_string(m);
    EXPECT_EQ(str(m, "id"), id) << to_string(m);
    EXPECT_FALSE(has(m, "cid"));
  }
  static void expect_presence(const json::object& m, const std::string& id, bool online) {
    EXPECT_EQ(type_of(m), "presence") << to_string(m);
    EXPECT_EQ(str(m, "id"), id) << to_string(m);
    ASSERT_TRUE(m.contains("online") && m.at("online").is_bool()) << to_string(m);
    EXPECT_EQ(m.at("online").as_bool(), online) << to_string(m);
  }
};

TEST_F(presence, left_goes_to_partners_only_when_the_last_connection_closes) {
  const std::string a = unique_id("a"), b = unique_id("b"), c = unique_id("c");
  auto ca = connect(a);
  auto b1 = connect(b), b2 = connect(b);
  auto cc = connect(c);  // online, but never chatted with b
  send_msg(*ca, b, "hi", "c1");
  b1->read_json();
  b2->read_json();

  ASSERT_TRUE(b1->close());
  ca->expect_nothing(ms{300});  // b is still online through b2

  auto t0 = steady::now();
  ASSERT_TRUE(b2->close());
  auto left = ca->read_json(ms{2000});
  double delay = ms_since(t0);
  expect_left(left, b);
  std::printf("[measure] left after a clean close: %.1f ms\n", delay);
  RecordProperty("left_delay_ms", std::to_string(delay));
  EXPECT_LT(delay, 500.0) << "left must arrive < 500 ms after the clean close";
  cc->expect_nothing(ms{200});  // not a partner
  ca->expect_nothing(ms{50});   // exactly once
}

TEST_F(presence, receiving_a_message_makes_a_partner_too) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a), cb = connect(b);
  send_msg(*ca, b, "hi", "c1");
  cb->read_json();
  auto t0 = steady::now();
  ASSERT_TRUE(ca->close());
  expect_left(cb->read_json(ms{2000}), a);
  EXPECT_LT(ms_since(t0), 500.0);
}

TEST_F(presence, left_reaches_every_connection_of_the_partner) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto a1 = connect(a), a2 = connect(a), cb = connect(b);
  send_msg(*a1, b, "hi", "c1");
  a2->read_json();
  cb->read_json();
  ASSERT_TRUE(cb->close());
  expect_left(a1->read_json(ms{2000}), b);
  expect_left(a2->read_json(ms{2000}), b);
}

TEST_F(presence, a_failed_send_to_an_offline_id_makes_no_partner) {
  const std::string a = unique_id("a"), later = unique_id("later");
  auto ca = connect(a);
  ca->send_json(obj({{"type", "msg"}, {"to", later}, {"text", "x"}, {"cid", "c"}}));
  EXPECT_EQ(str(ca->read_json(), "code"), "offline");
  auto cl = connect(later);
  ASSERT_TRUE(cl->close());
  ca->expect_nothing(ms{300});
}

TEST_F(presence, partnership_ends_after_left) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a);
  {
    auto cb = connect(b);
    send_msg(*ca, b, "hi", "c1");
    cb->read_json();
    ASSERT_TRUE(cb->close());
    expect_left(ca->read_json(ms{2000}), b);
  }
  auto again = connect(b);  // back, but has not chatted since
  ASSERT_TRUE(again->close());
  ca->expect_nothing(ms{300});
}

TEST_F(presence, left_after_an_abrupt_tcp_reset) {
  const std::string a = unique_id("a"), b = unique_id("rst");
  auto ca = connect(a);
  auto cb = connect(b);
  send_msg(*ca, b, "hi", "c1");
  cb->read_json();
  auto t0 = steady::now();
  cb->reset();
  auto left = ca->read_json(ms{3000});
  double delay = ms_since(t0);
  expect_left(left, b);
  std::printf("[measure] left after a TCP reset: %.1f ms\n", delay);
  EXPECT_LT(delay, 1000.0);
}

TEST_F(presence, left_after_the_tcp_connection_just_closes) {
  // A FIN without a close frame (a killed browser): the server sees end of stream.
  const std::string a = unique_id("a"), b = unique_id("fin");
  auto ca = connect(a);
  auto rb = raw_ws(b);
  send_msg(*ca, b, "hi", "c1");
  auto t0 = steady::now();
  ::shutdown(rb->fd(), SHUT_WR);
  expect_left(ca->read_json(ms{3000}), b);
  std::printf("[measure] left after a bare TCP FIN: %.1f ms\n", ms_since(t0));
}

TEST_F(presence, watch_sends_presence_now_and_on_each_change) {
  const std::string w = unique_id("watcher"), x = unique_id("x"), y = unique_id("y");
  auto cw = connect(w);
  auto cx = connect(x);
  cw->send_json(obj({{"type", "watch"}, {"ids", json::array{x, y}}}));
  expect_presence(cw->read_json(), x, true);
  expect_presence(cw->read_json(), y, false);
  cw->expect_nothing(ms{100});

  auto y1 = connect(y);
  expect_presence(cw->read_json(), y, true);
  auto y2 = connect(y);  // still online: no change, no frame
  cw->expect_nothing(ms{200});
  ASSERT_TRUE(y1->close());
  cw->expect_nothing(ms{300});  // y2 keeps y online
  ASSERT_TRUE(y2->close());
  expect_presence(cw->read_json(ms{2000}), y, false);
  cx->reset();
  expect_presence(cw->read_json(ms{2000}), x, false);
  cw->expect_nothing(ms{100});
}

TEST_F(presence, watch_is_not_chat_partnership) {
  const std::string w = unique_id("watcher"), x = unique_id("x");
  auto cw = connect(w), cx = connect(x);
  cw->send_json(obj({{"type", "watch"}, {"ids", json::array{x}}}));
  expect_presence(cw->read_json(), x, true);
  ASSERT_TRUE(cx->close());
  auto m = cw->read_json(ms{2000});
  expect_presence(m, x, false);  // a presence, not a left
  cw->expect_nothing(ms{200});
}

TEST_F(presence, watch_with_empty_list_and_bad_ids) {
  auto c = connect(unique_id("w"));
  c->send_json(obj({{"type", "watch"}, {"ids", json::array{}}}));
  c->expect_nothing(ms{150});
  expect_usable(*c);
  for (const char* bad :
       {R"({"type":"watch"})", R"({"type":"watch","ids":"x"})", R"({"type":"watch","ids":[1]})",
        R"({"type":"watch","ids":["a",null]})", R"({"type":"watch","ids":{"a":1}})"}) {
    SCOPED_TRACE(bad);
    c->send_text(bad);
    auto e = c->read_json();
    EXPECT_EQ(type_of(e), "error") << to_string(e);
    EXPECT_EQ(str(e, "code"), "bad_request") << to_string(e);
  }
  expect_usable(*c);
}

}  // namespace
}  // namespace parley::it
