// Retries are safe (protocol-v2.md "Sending" and its Details): the same sender id and cid within
// --dedup-seconds is acked again with the first message's mid, seq and ts and "duplicate":true,
// not stored or delivered again; a retry before the first commit included.
#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreDedup : public store_test {};

TEST_F(StoreDedup, retry_with_the_same_cid_is_a_duplicate_not_stored_or_delivered_again) {
  auto a1 = connect("alice"), a2 = connect("alice"), b = connect("bob");
  auto first = send_text(*a1, "bob", "once", "c1", "delivered");
  read_chat(*b);
  read_chat(*a2);

  // The same sender id and cid, even from its other connection and with another text.
  for (auto* c : {a1.get(), a2.get()}) {
    c->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "twice?"}, {"cid", "c1"}}));
    auto dup = read_ack(*c, "c1");
    EXPECT_TRUE(flag(dup, "duplicate")) << to_string(dup);
    EXPECT_EQ(str(dup, "mid"), str(first, "mid"));
    EXPECT_EQ(integer(dup, "seq"), integer(first, "seq"));
    EXPECT_EQ(integer(dup, "ts"), integer(first, "ts"));
    EXPECT_EQ(str(dup, "status"), "delivered") << to_string(dup);
  }
  b->expect_nothing(ms{200});
  a1->expect_nothing(ms{10});
  a2->expect_nothing(ms{10});

  auto next = send_text(*a1, "bob", "next", "c2", "delivered");
  EXPECT_EQ(integer(next, "seq"), 2) << "a duplicate took a seq";
  auto h = history(*a1, obj({{"with", "bob"}}));
  ASSERT_EQ(h.frames.size(), 2u);
  EXPECT_EQ(str(h.frames[0].head, "text"), "once");
  EXPECT_EQ(str(h.frames[1].head, "text"), "next");
}

TEST_F(StoreDedup, binary_retry_with_the_same_cid_is_a_duplicate_too) {
  auto a = connect("alice"), b = connect("bob");
  const auto frame = file_frame(obj({{"to", "bob"}, {"name", "a.bin"}, {"cid", "f1"}}), "data");
  a->send_binary(frame);
  auto first = read_ack(*a, "f1");
  EXPECT_FALSE(flag(first, "duplicate"));
  ASSERT_TRUE(read_chat(*b).binary);
  a->send_binary(frame);
  auto dup = read_ack(*a, "f1");
  EXPECT_TRUE(flag(dup, "duplicate")) << to_string(dup);
  EXPECT_EQ(str(dup, "mid"), str(first, "mid"));
  EXPECT_EQ(integer(dup, "seq"), integer(first, "seq"));
  b->expect_nothing(ms{200});
}

TEST_F(StoreDedup, dedup_is_per_sender_id) {
  auto a = connect("alice"), c = connect("carol");
  auto from_a = send_text(*a, "bob", "from alice", "same", "stored");
  auto from_c = send_text(*c, "bob", "from carol", "same", "stored");
  EXPECT_NE(str(from_a, "mid"), str(from_c, "mid"));
  EXPECT_EQ(integer(from_c, "seq"), 1) << "{carol, bob} is its own conversation";
}

TEST_F(StoreDedup, a_duplicates_ack_reports_the_state_now) {
  auto a = connect("alice");
  auto first = send_text(*a, "bob", "later", "c1", "stored");
  auto b = open("bob");
  auto in = read_inbox(*b);
  ASSERT_EQ(in.frames.size(), 1u);
  expect_receipt(*a, "bob", 1, "delivered");
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "later"}, {"cid", "c1"}}));
  auto dup = read_ack(*a, "c1");
  EXPECT_TRUE(flag(dup, "duplicate")) << to_string(dup);
  EXPECT_EQ(str(dup, "mid"), str(first, "mid"));
  EXPECT_EQ(str(dup, "status"), "delivered")
      << "bob's delivered cursor reached it: " << to_string(dup);
  b->expect_nothing(ms{200});
}

TEST_F(StoreDedup, a_burst_of_retries_sent_before_the_first_commit_is_one_message) {
  auto a = raw_connect("alice");
  auto b = connect("bob");
  const std::string msg = R"({"type":"msg","to":"bob","text":"retry me","cid":"r1"})";
  std::string burst;
  for (int i = 0; i < 5; ++i)
    burst += client_frame(1, msg);
  a->send(burst);  // one TCP write: the retries arrive before the first can be committed
  auto first = read_raw_json(*a);
  ASSERT_EQ(type_of(first), "ack") << to_string(first);
  EXPECT_FALSE(flag(first, "duplicate")) << "the first copy is acked first: " << to_string(first);
  EXPECT_EQ(integer(first, "seq"), 1);
  for (int i = 1; i < 5; ++i) {
    auto dup = read_raw_json(*a);
    ASSERT_EQ(type_of(dup), "ack") << to_string(dup);
    EXPECT_TRUE(flag(dup, "duplicate")) << to_string(dup);
    EXPECT_EQ(str(dup, "cid"), "r1");
    EXPECT_EQ(str(dup, "mid"), str(first, "mid"));
    EXPECT_EQ(integer(dup, "seq"), 1);
    EXPECT_EQ(integer(dup, "ts"), integer(first, "ts"));
  }
  auto m = read_chat(*b);
  check_message(m, "alice", "bob", 1);
  b->expect_nothing(ms{300});
}

// --dedup-seconds: a cid is remembered that long, no longer.
class StoreDedupWindow : public store_test {
  std::vector<std::string> extra_flags() const override { return {"--dedup-seconds", "1"}; }
};

TEST_F(StoreDedupWindow, after_dedup_seconds_the_same_cid_is_a_new_message) {
  auto a = connect("alice");
  auto first = send_text(*a, "bob", "x", "c1", "stored");
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "x"}, {"cid", "c1"}}));
  EXPECT_TRUE(flag(read_ack(*a, "c1"), "duplicate")) << "within the window";
  run_for(ms{1500});  // the window is 1 s; nothing to wait for but the clock
  auto again = send_text(*a, "bob", "x", "c1", "stored");
  EXPECT_NE(str(again, "mid"), str(first, "mid"));
  EXPECT_EQ(integer(again, "seq"), 2);
}

}  // namespace
}  // namespace parley::it
