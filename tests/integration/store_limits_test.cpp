// Limits and failures of the store (protocol-v2.md "Sending" and its Details): inbox_full past
// --max-inbox-messages undelivered messages, online or not, and `unavailable` while the store
// cannot write, with a retry under the same cid once it can.
#include "store_test.hpp"

namespace parley::it {
namespace {

// --max-inbox-messages: a recipient holding that many undelivered messages refuses more.
class StoreInboxFull : public store_test {
  std::vector<std::string> extra_flags() const override { return {"--max-inbox-messages", "3"}; }
};

TEST_F(StoreInboxFull, past_the_undelivered_limit_senders_get_inbox_full_and_nothing_is_stored) {
  auto a = connect("alice"), c = connect("carol");
  for (int i = 1; i <= 3; ++i)
    send_text(*a, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "m4"}, {"cid", "c4"}}));
  expect_error(*a, "inbox_full", "c4");
  c->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "hi"}, {"cid", "k1"}}));
  expect_error(*c, "inbox_full", "k1");  // the limit is the recipient's, whoever sends
  a->send_binary(file_frame(obj({{"to", "bob"}, {"cid", "f1"}}), "x"));
  expect_error(*a, "inbox_full", "f1");

  auto b = open("bob");
  auto in = read_inbox(*b);
  EXPECT_EQ(in.frames.size(), 3u);
  EXPECT_EQ(integer(in.inbox, "count"), 3);
  expect_receipt(*a, "bob", 3, "delivered");
  // Delivered now: room again, and the refused messages took no seq.
  auto ack = send_text(*a, "bob", "m5", "c5", "delivered");
  EXPECT_EQ(integer(ack, "seq"), 4);
  send_text(*c, "bob", "hi", "k2", "delivered");
}

// With --inbox-push-max 0 an online id keeps its undelivered messages, and they still count.
class StoreInboxFullOnline : public store_test {
  std::vector<std::string> extra_flags() const override {
    return {"--max-inbox-messages", "2", "--inbox-push-max", "0"};
  }
};

TEST_F(StoreInboxFullOnline, inbox_full_counts_undelivered_messages_of_an_online_id_too) {
  if (peer_mode()) GTEST_SKIP() << "node-ws checks inbox_full only for offline recipients";
  auto a = connect("alice"), c = connect("carol");
  send_text(*a, "bob", "m1", "c1", "stored");
  send_text(*a, "bob", "m2", "c2", "stored");
  auto b = open("bob");
  auto in = read_inbox(*b);
  EXPECT_EQ(in.frames.size(), 0u);
  EXPECT_EQ(integer(in.inbox, "count"), 0);
  EXPECT_TRUE(flag(in.inbox, "more")) << to_string(in.inbox);
  c->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "hi"}, {"cid", "k1"}}));
  expect_error(*c, "inbox_full", "k1");
  b->expect_nothing(ms{200});
}

// A store that cannot write: `unavailable`, nothing acked or delivered; a retry with the same
// cid succeeds once it can. The failure is a file-size limit of 1 byte on the server process.
class StoreUnavailable : public store_test {};

TEST_F(StoreUnavailable, a_store_that_cannot_write_answers_unavailable_and_a_retry_succeeds) {
  PARLEY_SKIP_ON_POSTGRES("a read-only data dir");
  auto a = connect("alice"), b = connect("bob");
  send_text(*a, "bob", "before", "c1", "delivered");
  read_chat(*b);

  set_file_size_limit(server().pid(), 1);
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "during"}, {"cid", "c2"}}));
  expect_error(*a, "unavailable", "c2");
  b->expect_nothing(ms{300});
  auto health = http_get(port(), "/healthz");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find("\"store\":\"unavailable"), std::string::npos) << health.body;
  if (!peer_mode()) {
    EXPECT_NE(health.body.find("\"status\":\"unavailable\""), std::string::npos) << health.body;
  }

  set_file_size_limit(server().pid(), RLIM_INFINITY);
  auto ack = send_until_not_unavailable(
      *a, obj({{"type", "msg"}, {"to", "bob"}, {"text", "during"}, {"cid", "c2"}}));
  ASSERT_EQ(type_of(ack), "ack") << to_string(ack);
  EXPECT_FALSE(flag(ack, "duplicate")) << "nothing was stored: " << to_string(ack);
  EXPECT_EQ(str(ack, "status"), "delivered") << to_string(ack);
  EXPECT_EQ(integer(ack, "seq"), 2) << "the failed message took no seq";
  auto m = read_chat(*b);
  check_same_message(m, ack);
  EXPECT_EQ(str(m.head, "text"), "during");
  b->expect_nothing(ms{200});
  health = http_get(port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_NE(health.body.find("\"store\":\"ok\""), std::string::npos) << health.body;
}

}  // namespace
}  // namespace parley::it
