// History (protocol-v2.md "History and resume" and its Details): before, after, the newest,
// limit, more, first_seq, binary messages, and every request that is bad_request.
#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreHistory : public store_test {
 protected:
  // alice sends `n` texts "t<seq>" to bob (offline), pipelined; keeps the acks by seq.
  void fill(int n) {
    a_ = connect("alice");
    for (int i = 1; i <= n; ++i)
      a_->send_json(obj({{"type", "msg"},
                         {"to", "bob"},
                         {"text", "t" + std::to_string(i)},
                         {"cid", "c" + std::to_string(i)}}));
    acks_.resize(n + 1);
    for (int i = 1; i <= n; ++i) {
      acks_[i] = read_ack(*a_, "c" + std::to_string(i));
      ASSERT_EQ(integer(acks_[i], "seq"), i) << to_string(acks_[i]);
    }
  }

  // Checks that `h` holds seqs first..last (inclusive, none when first > last) of the filled
  // conversation, with `more`, `count` and first_seq 1.
  void expect_range(const history_reply& h, std::int64_t first, std::int64_t last, bool more) {
    const std::int64_t n = std::max<std::int64_t>(0, last - first + 1);
    ASSERT_EQ(static_cast<std::int64_t>(h.frames.size()), n) << to_string(h.reply);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto& f = h.frames[static_cast<std::size_t>(i)];
      check_message(f, "alice", "bob", first + i);
      EXPECT_EQ(str(f.head, "text"), "t" + std::to_string(first + i));
      check_same_message(f, acks_[static_cast<std::size_t>(first + i)]);
    }
    EXPECT_EQ(type_of(h.reply), "history");
    EXPECT_EQ(integer(h.reply, "count"), n) << to_string(h.reply);
    ASSERT_TRUE(h.reply.contains("more") && h.reply.at("more").is_bool()) << to_string(h.reply);
    EXPECT_EQ(flag(h.reply, "more"), more) << to_string(h.reply);
    EXPECT_EQ(integer(h.reply, "first_seq"), 1) << to_string(h.reply);
  }

  std::unique_ptr<ws_client> a_;
  std::vector<json::object> acks_;
};

TEST_F(StoreHistory, without_before_or_after_the_newest_50_come_in_ascending_seq) {
  fill(60);
  auto h = history(*a_, obj({{"with", "bob"}, {"cid", "h1"}}));
  EXPECT_EQ(str(h.reply, "with"), "bob") << to_string(h.reply);
  EXPECT_EQ(str(h.reply, "cid"), "h1") << to_string(h.reply);
  expect_range(h, 11, 60, true);
  expect_range(history(*a_, obj({{"with", "bob"}, {"limit", 5}})), 56, 60, true);
}

TEST_F(StoreHistory, before_gives_the_newest_older_than_it_and_more_for_older_ones) {
  fill(60);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 58}, {"limit", 5}})), 53, 57, true);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 6}, {"limit", 5}})), 1, 5, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 3}, {"limit", 5}})), 1, 2, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 1}})), 1, 0, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 0}})), 1, 0, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"before", 1000}, {"limit", 3}})), 58, 60, true);
}

TEST_F(StoreHistory, after_gives_the_oldest_newer_than_it_and_more_for_newer_ones) {
  fill(60);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 41}, {"limit", 5}})), 42, 46, true);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 55}, {"limit", 5}})), 56, 60, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 0}, {"limit", 3}})), 1, 3, true);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 10}})), 11, 60, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 60}})), 61, 60, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 1000}})), 61, 60, false);
}

TEST_F(StoreHistory, limit_1_and_200_are_the_bounds) {
  fill(60);
  expect_range(history(*a_, obj({{"with", "bob"}, {"limit", 1}})), 60, 60, true);
  expect_range(history(*a_, obj({{"with", "bob"}, {"after", 0}, {"limit", 200}})), 1, 60, false);
  expect_range(history(*a_, obj({{"with", "bob"}, {"limit", 200}})), 1, 60, false);
}

TEST_F(StoreHistory, null_before_after_limit_and_cid_are_absent) {
  fill(3);
  a_->send_text(
      R"({"type":"history","with":"bob","before":null,"after":null,"limit":null,"cid":null})");
  history_reply h;
  for (int i = 0; i < 3; ++i)
    h.frames.push_back(read_chat(*a_));
  h.reply = a_->read_json();
  expect_range(h, 1, 3, false);
  EXPECT_FALSE(has(h.reply, "cid")) << to_string(h.reply);
}

TEST_F(StoreHistory, both_participants_read_the_same_conversation) {
  fill(4);
  auto b = open("bob");
  EXPECT_EQ(read_inbox(*b).frames.size(), 4u);
  expect_receipt(*a_, "bob", 4, "delivered");
  auto reply = send_text(*b, "alice", "t5", "r5", "delivered");
  EXPECT_EQ(integer(reply, "seq"), 5);
  read_chat(*a_);
  auto ha = history(*a_, obj({{"with", "bob"}}));
  auto hb = history(*b, obj({{"with", "alice"}}));
  EXPECT_EQ(str(hb.reply, "with"), "alice");
  ASSERT_EQ(ha.frames.size(), 5u);
  ASSERT_EQ(hb.frames.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_EQ(to_string(ha.frames[i].head), to_string(hb.frames[i].head));
  check_message(hb.frames[4], "bob", "alice", 5);
}

TEST_F(StoreHistory, an_empty_conversation_has_count_0_and_first_seq_1) {
  auto a = connect("alice");
  auto h = history(*a, obj({{"with", "stranger"}, {"cid", "e"}}));
  EXPECT_TRUE(h.frames.empty());
  EXPECT_EQ(integer(h.reply, "count"), 0) << to_string(h.reply);
  EXPECT_FALSE(flag(h.reply, "more"));
  EXPECT_EQ(integer(h.reply, "first_seq"), 1) << to_string(h.reply);
  EXPECT_EQ(str(h.reply, "with"), "stranger");
}

TEST_F(StoreHistory, binary_messages_come_back_as_binary_frames_in_seq_order) {
  auto a = connect("alice"), b = connect("bob");
  send_text(*a, "bob", "look", "c1", "delivered");
  read_chat(*b);
  const std::string png("\x89PNG\r\n\x1a\n\x00\x00", 10);
  a->send_binary(file_frame(
      obj({{"to", "bob"}, {"name", "cat.png"}, {"mime", "image/png"}, {"cid", "f2"}}), png));
  auto ack2 = read_ack(*a, "f2");
  read_chat(*b);
  b->send_binary(file_frame(obj({{"to", "alice"}, {"cid", "f3"}}), std::string(3000, '\0')));
  auto ack3 = read_ack(*b, "f3");
  read_chat(*a);
  send_text(*b, "alice", "nice", "c4", "delivered");
  read_chat(*a);

  for (auto* c : {a.get(), b.get()}) {
    auto h = history(*c, obj({{"with", c == a.get() ? "bob" : "alice"}}));
    ASSERT_EQ(h.frames.size(), 4u);
    EXPECT_FALSE(h.frames[0].binary);
    check_message(h.frames[0], "alice", "bob", 1);
    ASSERT_TRUE(h.frames[1].binary);
    check_message(h.frames[1], "alice", "bob", 2);
    check_same_message(h.frames[1], ack2);
    EXPECT_EQ(str(h.frames[1].head, "name"), "cat.png");
    EXPECT_EQ(str(h.frames[1].head, "mime"), "image/png");
    EXPECT_EQ(h.frames[1].payload, png);
    ASSERT_TRUE(h.frames[2].binary);
    check_message(h.frames[2], "bob", "alice", 3);
    check_same_message(h.frames[2], ack3);
    EXPECT_FALSE(has(h.frames[2].head, "name")) << to_string(h.frames[2].head);
    EXPECT_FALSE(has(h.frames[2].head, "mime")) << to_string(h.frames[2].head);
    EXPECT_EQ(h.frames[2].payload, std::string(3000, '\0'));
    check_message(h.frames[3], "bob", "alice", 4);
    EXPECT_EQ(str(h.frames[3].head, "text"), "nice");
  }
}

TEST_F(StoreHistory, a_note_to_oneself_has_its_own_history) {
  auto a1 = connect("alice"), a2 = connect("alice");
  for (int i = 1; i <= 2; ++i) {
    a1->send_json(obj({{"type", "msg"},
                       {"to", "alice"},
                       {"text", "n" + std::to_string(i)},
                       {"cid", "n" + std::to_string(i)}}));
    read_chat(*a2);
  }
  auto h = history(*a2, obj({{"with", "alice"}}));
  ASSERT_EQ(h.frames.size(), 2u);
  check_message(h.frames[0], "alice", "alice", 1);
  check_message(h.frames[1], "alice", "alice", 2);
}

TEST_F(StoreHistory, every_malformed_request_is_bad_request_with_its_cid) {
  fill(3);
  const char* bad[] = {
      R"({"type":"history","cid":"x1"})",                                     // no with
      R"({"type":"history","with":"bad id","cid":"x2"})",                     // not an id
      R"({"type":"history","with":"","cid":"x3"})",                           // not an id
      R"({"type":"history","with":5,"cid":"x4"})",                            // not a string
      R"({"type":"history","with":"bob","limit":0,"cid":"x5"})",              // limit < 1
      R"({"type":"history","with":"bob","limit":201,"cid":"x6"})",            // limit > 200
      R"({"type":"history","with":"bob","limit":-1,"cid":"x7"})",             //
      R"({"type":"history","with":"bob","limit":2.5,"cid":"x8"})",            // not an integer
      R"({"type":"history","with":"bob","limit":"5","cid":"x9"})",            // not a number
      R"({"type":"history","with":"bob","before":2,"after":1,"cid":"x10"})",  // both
      R"({"type":"history","with":"bob","before":-1,"cid":"x11"})",           // negative
      R"({"type":"history","with":"bob","before":1.5,"cid":"x12"})",          // not an integer
      R"({"type":"history","with":"bob","before":"2","cid":"x13"})",          // not a number
      R"({"type":"history","with":"bob","after":-1,"cid":"x14"})",            //
      R"({"type":"history","with":"bob","after":0.5,"cid":"x15"})",           //
      R"({"type":"history","with":"bob","after":true,"cid":"x16"})",          //
  };
  int n = 0;
  for (const char* frame : bad) {
    a_->send_text(frame);
    expect_error(*a_, "bad_request", "x" + std::to_string(++n));
  }
  // The connection still answers history.
  expect_range(history(*a_, obj({{"with", "bob"}})), 1, 3, false);
}

}  // namespace
}  // namespace parley::it
