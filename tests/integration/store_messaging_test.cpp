// Sending with a store (protocol-v2.md "Sending", "Conversations and sequence numbers"): acks
// with mid, seq, ts and status, seq per conversation, copies, no `offline`, recipients that
// cannot be ids, the order of store replies, and `--store none` as version 1.
#include <set>

#include "store_test.hpp"

namespace parley::it {
namespace {

constexpr std::int64_t clock_slack_ms = 5000;  // ts is server time in ms on this machine

class StoreMessaging : public store_test {};

TEST_F(StoreMessaging, ack_to_an_online_recipient_is_delivered_and_every_copy_carries_its_seq) {
  auto a1 = connect("alice"), a2 = connect("alice");
  auto b1 = connect("bob"), b2 = connect("bob");
  auto ack = send_text(*a1, "bob", "hello", "c1", "delivered");
  EXPECT_EQ(integer(ack, "seq"), 1) << to_string(ack);
  EXPECT_LE(std::llabs(integer(ack, "ts") - now_ms()), clock_slack_ms) << to_string(ack);
  for (auto* c : {b1.get(), b2.get(), a2.get()}) {
    auto m = read_chat(*c);
    check_message(m, "alice", "bob", 1);
    EXPECT_EQ(str(m.head, "text"), "hello");
    check_same_message(m, ack);
  }
  for (auto* c : {a1.get(), a2.get(), b1.get(), b2.get()})
    c->expect_nothing(ms{150});
}

TEST_F(StoreMessaging, message_to_an_offline_id_is_acked_stored_without_an_offline_error) {
  auto a1 = connect("alice"), a2 = connect("alice");
  auto ack = send_text(*a1, "nobody.home", "are you there?", "c1", "stored");
  EXPECT_EQ(integer(ack, "seq"), 1);
  // The sender's other connections get the copy all the same.
  auto copy = read_chat(*a2);
  check_message(copy, "alice", "nobody.home", 1);
  check_same_message(copy, ack);
  a1->expect_nothing(ms{200});  // no `offline` error after the ack
  // Without a cid: no ack and no error, and the message is kept.
  a1->send_json(obj({{"type", "msg"}, {"to", "nobody.home"}, {"text", "still?"}}));
  check_message(read_chat(*a2), "alice", "nobody.home", 2);
  auto h = history(*a1, obj({{"with", "nobody.home"}, {"cid", "h"}}));
  EXPECT_EQ(integer(h.reply, "count"), 2) << to_string(h.reply);
}

TEST_F(StoreMessaging, seq_counts_1_2_3_per_conversation_whoever_sends) {
  auto a = connect("alice"), b = connect("bob"), c = connect("carol");
  struct step {
    ws_client* from;
    std::string from_id, to_id;
    ws_client* to;
    std::int64_t seq;
  };
  const step steps[] = {
      {a.get(), "alice", "bob", b.get(), 1},   {b.get(), "bob", "alice", a.get(), 2},
      {a.get(), "alice", "bob", b.get(), 3},   {a.get(), "alice", "carol", c.get(), 1},
      {c.get(), "carol", "alice", a.get(), 2}, {b.get(), "bob", "carol", c.get(), 1},
      {b.get(), "bob", "alice", a.get(), 4}};
  int n = 0;
  for (const auto& s : steps) {
    const std::string cid = "s" + std::to_string(++n);
    auto ack = send_text(*s.from, s.to_id, "m" + cid, cid, "delivered");
    EXPECT_EQ(integer(ack, "seq"), s.seq) << s.from_id << " -> " << s.to_id;
    auto m = read_chat(*s.to);
    check_message(m, s.from_id, s.to_id, s.seq);
    check_same_message(m, ack);
  }
}

TEST_F(StoreMessaging, text_and_binary_messages_share_one_sequence) {
  auto a = connect("alice"), b = connect("bob");
  send_text(*a, "bob", "first", "t1", "delivered");
  check_message(read_chat(*b), "alice", "bob", 1);

  const std::string payload("\x00\x01\xff binary \x80", 13);
  a->send_binary(file_frame(
      obj({{"to", "bob"}, {"name", "cat.png"}, {"mime", "image/png"}, {"cid", "f1"}}), payload));
  auto ack = read_ack(*a, "f1");
  EXPECT_EQ(str(ack, "status"), "delivered");
  EXPECT_EQ(integer(ack, "seq"), 2);
  auto f = read_chat(*b);
  ASSERT_TRUE(f.binary) << to_string(f.head);
  check_message(f, "alice", "bob", 2);
  check_same_message(f, ack);
  EXPECT_EQ(str(f.head, "name"), "cat.png");
  EXPECT_EQ(str(f.head, "mime"), "image/png");
  EXPECT_EQ(f.payload, payload);

  send_text(*a, "bob", "third", "t3", "delivered");
  check_message(read_chat(*b), "alice", "bob", 3);
}

TEST_F(StoreMessaging, a_note_to_oneself_is_its_own_conversation_numbered_1_2_3) {
  auto a1 = connect("alice"), a2 = connect("alice"), b = connect("bob");
  for (std::int64_t seq = 1; seq <= 3; ++seq) {
    const std::string cid = "n" + std::to_string(seq);
    a1->send_json(obj({{"type", "msg"}, {"to", "alice"}, {"text", "note"}, {"cid", cid}}));
    // a1 is sender and recipient: it may get the message (at most once) before its ack.
    auto f = a1->read_json();
    if (type_of(f) == "msg") {
      check_message(chat_frame{false, f, {}}, "alice", "alice", seq);
      f = a1->read_json();
    }
    ASSERT_EQ(type_of(f), "ack") << to_string(f);
    EXPECT_EQ(str(f, "cid"), cid);
    EXPECT_EQ(integer(f, "seq"), seq) << to_string(f);
    EXPECT_EQ(str(f, "status"), "delivered") << "a2 is online: " << to_string(f);
    auto copy = read_chat(*a2);
    check_message(copy, "alice", "alice", seq);
    check_same_message(copy, f);
  }
  // {alice, bob} is another conversation: it starts at 1.
  auto ack = send_text(*a1, "bob", "hi", "b1", "delivered");
  EXPECT_EQ(integer(ack, "seq"), 1);
}

TEST_F(StoreMessaging, mids_are_unique_across_conversations) {
  auto a = connect("alice");
  std::set<std::string> mids;
  for (const char* to : {"bob", "carol", "dave"})
    for (int i = 0; i < 5; ++i) {
      const std::string cid = std::string(to) + std::to_string(i);
      mids.insert(str(send_text(*a, to, "x", cid, "stored"), "mid"));
    }
  EXPECT_EQ(mids.size(), 15u);
}

TEST_F(StoreMessaging, recipient_that_cannot_be_an_id_is_bad_request_for_text_and_binary) {
  auto a = connect("alice"), b = connect("bob");
  const std::string bad[] = {"", "bad id", "a/b", "caf\u00e9", "x?y", std::string(65, 'x')};
  int n = 0;
  for (const auto& to : bad) {
    const std::string cid = "t" + std::to_string(++n);
    a->send_json(obj({{"type", "msg"}, {"to", to}, {"text", "x"}, {"cid", cid}}));
    expect_error(*a, "bad_request", cid);
    const std::string fcid = "f" + std::to_string(n);
    a->send_binary(file_frame(obj({{"to", to}, {"cid", fcid}}), "payload"));
    expect_error(*a, "bad_request", fcid);
  }
  b->expect_nothing(ms{100});
  // The connection is fine and the valid conversation is untouched.
  auto ack = send_text(*a, "bob", "ok", "ok", "delivered");
  EXPECT_EQ(integer(ack, "seq"), 1);
}

TEST_F(StoreMessaging, acks_owed_when_the_client_closes_come_before_the_close_frame) {
  // protocol.md: replies to frames received before the client's close frame are sent before
  // the server's close frame, even when they wait for a commit.
  auto a = raw_connect("alice");
  std::string burst;
  constexpr int messages = 100;
  for (int i = 0; i < messages; ++i) {
    burst += client_frame(1, R"({"type":"msg","to":"bob","text":"m)" + std::to_string(i) +
                                 R"(","cid":"c)" + std::to_string(i) + R"("})");
  }
  burst += client_frame(8, close_payload(1000));
  a->send(burst);
  for (int i = 0; i < messages; ++i) {
    auto frame = a->read_frame();
    ASSERT_TRUE(frame) << "ack " << i << " missing";
    ASSERT_EQ(frame->opcode, 1) << "frame " << i << " is not a text frame";
    auto ack = json::parse(frame->payload).as_object();
    EXPECT_EQ(type_of(ack), "ack") << to_string(ack);
    EXPECT_EQ(str(ack, "cid"), "c" + std::to_string(i));
  }
  auto close = a->read_frame();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, 8);
}

TEST_F(StoreMessaging, store_replies_come_in_the_order_of_their_requests) {
  // Acks (and the messages they committed) come before a later history's or conversations'
  // answer on the same connection, even when all arrive in one TCP write.
  auto a = raw_connect("alice");
  std::string burst;
  burst += client_frame(1, R"({"type":"msg","to":"bob","text":"one","cid":"c1"})");
  burst += client_frame(1, R"({"type":"msg","to":"bob","text":"two","cid":"c2"})");
  burst += client_frame(1, R"({"type":"history","with":"bob","cid":"h1"})");
  burst += client_frame(1, R"({"type":"conversations","cid":"k1"})");
  a->send(burst);
  auto ack1 = read_raw_json(*a);
  EXPECT_EQ(type_of(ack1), "ack") << to_string(ack1);
  EXPECT_EQ(str(ack1, "cid"), "c1");
  auto ack2 = read_raw_json(*a);
  EXPECT_EQ(type_of(ack2), "ack") << to_string(ack2);
  EXPECT_EQ(str(ack2, "cid"), "c2");
  for (std::int64_t seq = 1; seq <= 2; ++seq) {
    auto m = read_raw_json(*a);
    EXPECT_EQ(type_of(m), "msg") << to_string(m);
    EXPECT_EQ(integer(m, "seq"), seq) << to_string(m);
  }
  auto h = read_raw_json(*a);
  EXPECT_EQ(type_of(h), "history") << to_string(h);
  EXPECT_EQ(integer(h, "count"), 2) << to_string(h);
  auto k = read_raw_json(*a);
  ASSERT_EQ(type_of(k), "conversations") << to_string(k);
  auto items = items_of(k);
  ASSERT_EQ(items.size(), 1u) << to_string(k);
  EXPECT_EQ(integer(items[0], "last_seq"), 2) << to_string(k);
}

// `--store none` is protocol version 1 exactly.
TEST(StoreNone, store_none_is_version_1_no_epoch_inbox_seq_or_history) {
  server_process s({"--store", "none"});
  net::io_context ioc;
  ws_client a(ioc, s.port()), b(ioc, s.port());
  auto welcome = a.connect("alice");
  EXPECT_FALSE(has(welcome, "epoch")) << to_string(welcome);
  b.connect("bob");
  // No inbox frame: the first frame after welcome answers the first request.
  a.send_json(obj({{"type", "ping"}, {"cid", "p"}}));
  EXPECT_EQ(type_of(a.read_json()), "pong");
  a.send_json(obj({{"type", "msg"}, {"to", "nobody"}, {"text", "x"}, {"cid", "c1"}}));
  auto e = a.read_json();
  EXPECT_EQ(str(e, "code"), "offline") << to_string(e);
  a.send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "x"}, {"cid", "c2"}}));
  auto ack = a.read_json();
  EXPECT_EQ(str(ack, "status"), "delivered") << to_string(ack);
  EXPECT_FALSE(has(ack, "seq")) << to_string(ack);
  EXPECT_FALSE(has(b.read_json(), "seq"));
  for (const char* type : {"history", "read", "conversations"}) {
    a.send_json(obj({{"type", type}, {"with", "bob"}, {"seq", 1}, {"cid", type}}));
    auto u = a.read_json();
    EXPECT_EQ(str(u, "code"), "unknown_type") << type << ": " << to_string(u);
  }
}

}  // namespace
}  // namespace parley::it
