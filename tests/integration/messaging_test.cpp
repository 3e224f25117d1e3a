// Text frames of protocol.md between real clients: msg, its copies, ack, offline, who, typing,
// ping/pong, and the rules for cid, null and unknown fields.
#include "chat_test.hpp"

#include <set>

namespace parley::it {
namespace {

class messaging : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--threads", "2"}); }
  static void TearDownTestSuite() { stop_server(); }

  // Checks a delivered msg frame; returns its mid.
  static std::string check_msg(const json::object& m, const std::string& from,
                               const std::string& to, const std::string& text) {
    EXPECT_EQ(type_of(m), "msg") << to_string(m);
    EXPECT_EQ(str(m, "from"), from) << to_string(m);
    EXPECT_EQ(str(m, "to"), to) << to_string(m);
    EXPECT_EQ(str(m, "text"), text) << to_string(m);
    EXPECT_FALSE(str(m, "mid").empty()) << to_string(m);
    EXPECT_TRUE(m.contains("ts") && m.at("ts").is_number()) << to_string(m);
    if (m.contains("ts") && m.at("ts").is_number()) {
      auto ts = m.at("ts").to_number<std::int64_t>();
      EXPECT_LE(std::llabs(ts - now_ms()), 5000) << "ts is not server time in ms: " << ts;
    }
    EXPECT_FALSE(has(m, "cid")) << "cid leaked into a delivered msg: " << to_string(m);
    return str(m, "mid");
  }
};

TEST_F(messaging, msg_reaches_every_connection_of_the_recipient_and_the_senders_other_ones) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto a1 = connect(a), a2 = connect(a), a3 = connect(a);
  auto b1 = connect(b), b2 = connect(b);
  auto bystander = connect(unique_id("by"));

  a1->send_json(obj({{"type", "msg"}, {"to", b}, {"text", "hello"}, {"cid", "c1"}}));
  auto ack = a1->read_json();
  EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_EQ(str(ack, "cid"), "c1");
  EXPECT_EQ(str(ack, "status"), "delivered");
  const std::string mid = str(ack, "mid");
  EXPECT_FALSE(mid.empty());

  for (auto* c : {b1.get(), b2.get(), a2.get(), a3.get()}) {
    auto m = c->read_json();
    EXPECT_EQ(check_msg(m, a, b, "hello"), mid);
  }
  // Exactly once each, nothing back to the sending connection but its ack, nothing to others.
  for (auto* c : {a1.get(), a2.get(), a3.get(), b1.get(), b2.get(), bystander.get()})
    c->expect_nothing(ms{150});
}

TEST_F(messaging, ack_mid_matches_and_mids_are_unique) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a), cb = connect(b);
  std::set<std::string> mids;
  for (int i = 0; i < 20; ++i) {
    auto ack = send_msg(*ca, b, "n" + std::to_string(i), "c" + std::to_string(i));
    auto m = cb->read_json();
    EXPECT_EQ(check_msg(m, a, b, "n" + std::to_string(i)), str(ack, "mid"));
    mids.insert(str(ack, "mid"));
  }
  EXPECT_EQ(mids.size(), 20u) << "mid is not unique per message";
}

TEST_F(messaging, no_ack_without_cid) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a), cb = connect(b);
  ca->send_json(obj({{"type", "msg"}, {"to", b}, {"text", "quiet"}}));
  check_msg(cb->read_json(), a, b, "quiet");
  ca->expect_nothing(ms{300});
}

TEST_F(messaging, messages_arrive_in_order) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a), cb = connect(b);
  for (int i = 0; i < 200; ++i)
    ca->send_json(obj({{"type", "msg"}, {"to", b}, {"text", std::to_string(i)}}));
  for (int i = 0; i < 200; ++i) {
    auto m = cb->read_json();
    ASSERT_EQ(str(m, "text"), std::to_string(i)) << "out of order";
  }
}

TEST_F(messaging, text_is_forwarded_verbatim_with_escapes_and_unicode) {
  const std::string a = unique_id("a"), b = unique_id("b");
  auto ca = connect(a), cb = connect(b);
  const std::string text =
      "quote \" backslash \\ newline \n tab \t nul-free \u00e9 \u4e2d \U0001F600 </script>";
  send_msg(*ca, b, text, "u1");
  check_msg(cb->read_json(), a, b, text);
  // A surrogate pair written as escapes is one character.
  ca->send_text(R"({"type":"msg","to":")" + b + R"(","text":"\uD83D\uDE00","cid":"u2"})");
  EXPECT_EQ(type_of(ca->read_json()), "ack");
  check_msg(cb->read_json(), a, b, "\U0001F600");
  send_msg(*ca, b, "", "u3");  // an empty text is still a string
  check_msg(cb->read_json(), a, b, "");
}

TEST_F(messaging, message_to_self_reaches_other_connections_once) {
  const std::string a = unique_id("self");
  auto a1 = connect(a), a2 = connect(a);
  a1->send_json(obj({{"type", "msg"}, {"to", a}, {"text", "note to self"}, {"cid", "s1"}}));
  // a1 is both sender and recipient: whether it also gets the msg is not fixed by the
  // contract (at most once); its ack must come.
  std::string mid;
  int own_copies = 0;
  for (int i = 0; i < 2 && mid.empty(); ++i) {
    auto m = a1->read_json();
    if (type_of(m) == "ack") {
      EXPECT_EQ(str(m, "cid"), "s1");
      mid = str(m, "mid");
    } else {
      ++own_copies;
      check_msg(m, a, a, "note to self");
    }
  }
  ASSERT_FALSE(mid.empty()) << "no ack";
  if (own_copies == 0 && a1->pending()) own_copies += type_of(a1->read_json()) == "msg";
  EXPECT_LE(own_copies, 1);
  EXPECT_EQ(check_msg(a2->read_json(), a, a, "note to self"), mid);
  a2->expect_nothing(ms{200});
  a1->expect_nothing(ms{10});
}

TEST_F(messaging, offline_recipient_is_an_error_with_to_and_cid) {
  auto ca = connect(unique_id("a"));
  const std::string nobody = unique_id("nobody");
  ca->send_json(obj({{"type", "msg"}, {"to", nobody}, {"text", "anyone?"}, {"cid", "c7"}}));
  auto e = ca->read_json();
  EXPECT_EQ(type_of(e), "error") << to_string(e);
  EXPECT_EQ(str(e, "code"), "offline");
  EXPECT_EQ(str(e, "cid"), "c7");
  EXPECT_EQ(str(e, "to"), nobody);
  EXPECT_TRUE(e.contains("message") && e.at("message").is_string()) << to_string(e);
  EXPECT_EQ(str(e, "message"), "Client #" + nobody + " is not online");
  // Without a cid: still an error, without cid.
  ca->send_json(obj({{"type", "msg"}, {"to", nobody}, {"text", "anyone?"}}));
  e = ca->read_json();
  EXPECT_EQ(str(e, "code"), "offline") << to_string(e);
  EXPECT_EQ(str(e, "to"), nobody);
  EXPECT_FALSE(has(e, "cid")) << to_string(e);
  ca->expect_nothing(ms{100});
}

TEST_F(messaging, who_lists_online_ids_once_with_total_and_cid) {
  const std::string a = unique_id("who"), b = unique_id("who");
  auto a1 = connect(a), a2 = connect(a), cb = connect(b);
  a1->send_json(obj({{"type", "who"}, {"cid", "w1"}}));
  auto w = a1->read_json();
  ASSERT_EQ(type_of(w), "who") << to_string(w);
  EXPECT_EQ(str(w, "cid"), "w1");
  ASSERT_TRUE(w.contains("online") && w.at("online").is_array()) << to_string(w);
  ASSERT_TRUE(w.contains("total") && w.at("total").is_number()) << to_string(w);
  int count_a = 0, count_b = 0;
  for (auto& v : w.at("online").as_array()) {
    ASSERT_TRUE(v.is_string());
    count_a += v.as_string() == a;
    count_b += v.as_string() == b;
  }
  EXPECT_EQ(count_a, 1) << "an id with two connections is listed once: " << to_string(w);
  EXPECT_EQ(count_b, 1) << to_string(w);
  EXPECT_EQ(w.at("total").to_number<std::int64_t>(),
            static_cast<std::int64_t>(w.at("online").as_array().size()));
  // Without cid: no cid in the answer.
  cb->send_json(obj({{"type", "who"}}));
  w = cb->read_json();
  EXPECT_EQ(type_of(w), "who");
  EXPECT_FALSE(has(w, "cid")) << to_string(w);
}

TEST_F(messaging, who_forgets_ids_whose_last_connection_closed) {
  const std::string gone = unique_id("gone");
  auto asker = connect(unique_id("ask"));
  {
    auto g = connect(gone);
    ASSERT_TRUE(g->close());
  }
  // The close is processed asynchronously; give it a bounded moment.
  bool absent = false;
  for (int i = 0; i < 20 && !absent; ++i) {
    asker->send_json(obj({{"type", "who"}}));
    auto w = asker->read_json();
    absent = true;
    for (auto& v : w.at("online").as_array())
      if (v.as_string() == gone) absent = false;
    if (!absent) run_for(ms{50});
  }
  EXPECT_TRUE(absent) << gone << " still listed 1 s after its close";
}

TEST_F(messaging, ping_gets_pong_with_server_time_and_cid) {
  auto c = connect(unique_id("p"));
  auto before = now_ms();
  c->send_json(obj({{"type", "ping"}, {"cid", "p1"}}));
  auto p = c->read_json();
  EXPECT_EQ(type_of(p), "pong") << to_string(p);
  EXPECT_EQ(str(p, "cid"), "p1");
  ASSERT_TRUE(p.contains("server_time") && p.at("server_time").is_number()) << to_string(p);
  EXPECT_LE(std::llabs(p.at("server_time").to_number<std::int64_t>() - before), 5000);
  c->send_json(obj({{"type", "ping"}}));
  p = c->read_json();
  EXPECT_EQ(type_of(p), "pong");
  EXPECT_FALSE(has(p, "cid")) << to_string(p);
}

TEST_F(messaging, typing_reaches_every_connection_of_the_recipient_without_ack) {
  const std::string a = unique_id("t"), b = unique_id("t");
  auto ca = connect(a), b1 = connect(b), b2 = connect(b);
  ca->send_json(obj({{"type", "typing"}, {"to", b}}));
  for (auto* c : {b1.get(), b2.get()}) {
    auto t = c->read_json();
    EXPECT_EQ(type_of(t), "typing") << to_string(t);
    EXPECT_EQ(str(t, "from"), a);
    EXPECT_FALSE(has(t, "cid"));
  }
  // With a cid: still no ack, and the cid is not forwarded.
  ca->send_json(obj({{"type", "typing"}, {"to", b}, {"cid", "t1"}}));
  for (auto* c : {b1.get(), b2.get()}) {
    auto t = c->read_json();
    EXPECT_EQ(type_of(t), "typing");
    EXPECT_FALSE(has(t, "cid")) << "cid leaked into typing: " << to_string(t);
  }
  ca->expect_nothing(ms{300});
  b1->expect_nothing(ms{50});
}

TEST_F(messaging, cid_appears_only_in_answers) {
  // A request with a cid to every kind of frame; only ack/error/pong/who carry it back.
  const std::string a = unique_id("cid"), b = unique_id("cid");
  auto ca = connect(a), a2 = connect(a), cb = connect(b);
  ca->send_json(obj({{"type", "watch"}, {"ids", json::array{b}}, {"cid", "x1"}}));
  auto pr = ca->read_json();
  EXPECT_EQ(type_of(pr), "presence") << to_string(pr);
  EXPECT_FALSE(has(pr, "cid")) << to_string(pr);
  ca->send_json(obj({{"type", "msg"}, {"to", b}, {"text", "t"}, {"cid", "x2"}}));
  EXPECT_EQ(str(ca->read_json(), "cid"), "x2");
  EXPECT_FALSE(has(cb->read_json(), "cid"));
  EXPECT_FALSE(has(a2->read_json(), "cid"));
}

TEST_F(messaging, cid_up_to_64_bytes_is_echoed_longer_is_bad_request) {
  auto c = connect(unique_id("cid"));
  const std::string cid64(64, 'k');
  c->send_json(obj({{"type", "ping"}, {"cid", cid64}}));
  EXPECT_EQ(str(c->read_json(), "cid"), cid64);
  std::string utf8_64;  // 32 two-byte characters: 64 bytes
  for (int i = 0; i < 32; ++i)
    utf8_64 += "\u00e9";
  c->send_json(obj({{"type", "ping"}, {"cid", utf8_64}}));
  EXPECT_EQ(str(c->read_json(), "cid"), utf8_64);

  for (const std::string& bad : {std::string(65, 'k'), utf8_64 + "\u00e9"}) {
    c->send_json(obj({{"type", "ping"}, {"cid", bad}}));
    auto e = c->read_json();
    EXPECT_EQ(type_of(e), "error") << to_string(e);
    EXPECT_EQ(str(e, "code"), "bad_request") << to_string(e);
  }
  expect_usable(*c);
}

TEST_F(messaging, null_optional_fields_are_absent) {
  const std::string a = unique_id("nul"), b = unique_id("nul");
  auto ca = connect(a), cb = connect(b);
  ca->send_text(R"({"type":"msg","to":")" + b + R"(","text":"n","cid":null})");
  EXPECT_EQ(str(cb->read_json(), "text"), "n");
  ca->expect_nothing(ms{200});  // no cid: no ack, and no error either
  ca->send_text(R"({"type":"ping","cid":null})");
  auto p = ca->read_json();
  EXPECT_EQ(type_of(p), "pong");
  EXPECT_FALSE(has(p, "cid")) << to_string(p);
  ca->send_text(R"({"type":"who","cid":null})");
  auto w = ca->read_json();
  EXPECT_EQ(type_of(w), "who");
  EXPECT_FALSE(has(w, "cid")) << to_string(w);
}

TEST_F(messaging, unknown_fields_are_ignored) {
  const std::string a = unique_id("unk"), b = unique_id("unk");
  auto ca = connect(a), cb = connect(b);
  ca->send_text(
      R"({"type":"msg","to":")" + b +
      R"(","text":"x","cid":"u1","extra":{"deep":[1,2,{"x":null}]},"Type":"nope","TO":5,"n":1.5e3})");
  EXPECT_EQ(type_of(ca->read_json()), "ack");
  auto m = cb->read_json();
  EXPECT_EQ(str(m, "text"), "x");
  EXPECT_FALSE(has(m, "extra")) << "unknown field forwarded: " << to_string(m);
  ca->send_text(R"({"future":true,"type":"ping","cid":"u2"})");
  EXPECT_EQ(str(ca->read_json(), "cid"), "u2");
}

TEST_F(messaging, field_names_are_case_sensitive) {
  auto c = connect(unique_id("case"));
  c->send_text(R"({"Type":"ping"})");
  auto e = c->read_json();
  EXPECT_EQ(type_of(e), "error") << to_string(e);
  EXPECT_EQ(str(e, "code"), "bad_request") << "a missing type is a missing field";
  c->send_text(R"({"type":"PING","cid":"k"})");
  e = c->read_json();
  EXPECT_EQ(str(e, "code"), "unknown_type") << to_string(e);
  EXPECT_EQ(str(e, "cid"), "k");
}

TEST_F(messaging, replies_come_in_order_and_before_the_close_frame) {
  // protocol.md: frames are handled in the order received, and replies to frames received
  // before the client's close frame are sent before the server's close frame (code 1000 echo).
  auto r = raw_ws(unique_id("order"));
  std::string burst;
  for (int i = 0; i < 50; ++i)
    burst += client_frame(1, R"({"type":"ping","cid":"o)" + std::to_string(i) + R"("})");
  burst += client_frame(8, close_payload(1000));
  r->send(burst);
  for (int i = 0; i < 50; ++i) {
    auto f = r->read_frame();
    ASSERT_TRUE(f) << "pong " << i << " missing";
    ASSERT_EQ(f->opcode, 1) << "frame " << i << " opcode " << f->opcode;
    EXPECT_NE(f->payload.find("\"o" + std::to_string(i) + "\""), std::string::npos)
        << "pong " << i << " out of order: " << f->payload;
  }
  auto f = r->read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, 8);
  EXPECT_EQ(f->close_code(), 1000);
  EXPECT_TRUE(r->wait_eof(ms{3000})) << "server kept the TCP connection after the close";
}

TEST_F(messaging, clean_close_is_answered_with_1000) {
  auto c = connect(unique_id("cl"));
  ASSERT_TRUE(c->close(1000));
  EXPECT_EQ(c->close_code(), 1000);
}

}  // namespace
}  // namespace parley::it
