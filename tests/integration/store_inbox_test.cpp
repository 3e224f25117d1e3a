// The inbox (protocol-v2.md "The inbox"): what waited for an id comes right after `welcome`, as
// the frames a live recipient gets, oldest commit first, then {"type":"inbox","count","more"};
// --inbox-push-max caps it and `history` fetches the rest.
#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreInbox : public store_test {};

TEST_F(StoreInbox, a_new_id_gets_welcome_with_an_epoch_then_an_empty_inbox_frame) {
  json::object welcome;
  auto c = open("newcomer", &welcome);
  EXPECT_TRUE(welcome.contains("epoch") && welcome.at("epoch").is_string()) << to_string(welcome);
  auto in = c->read_json();
  EXPECT_EQ(type_of(in), "inbox") << to_string(in);
  EXPECT_EQ(integer(in, "count"), 0) << to_string(in);
  ASSERT_TRUE(in.contains("more") && in.at("more").is_bool()) << to_string(in);
  EXPECT_FALSE(flag(in, "more"));
  c->expect_nothing(ms{200});
}

TEST_F(StoreInbox, waiting_messages_come_as_live_frames_in_commit_order_then_the_inbox_frame) {
  auto a = connect("alice"), c = connect("carol");
  std::vector<json::object> acks;
  acks.push_back(send_text(*a, "bob", "a1", "a1", "stored"));
  acks.push_back(send_text(*c, "bob", "c1", "c1", "stored"));
  const std::string payload("\x00png\xff", 5);
  a->send_binary(file_frame(
      obj({{"to", "bob"}, {"name", "cat.png"}, {"mime", "image/png"}, {"cid", "f2"}}), payload));
  acks.push_back(read_ack(*a, "f2"));
  EXPECT_EQ(str(acks.back(), "status"), "stored");
  acks.push_back(send_text(*a, "bob", "a3", "a3", "stored"));
  acks.push_back(send_text(*c, "bob", "c2", "c2", "stored"));

  auto b = open("bob");
  auto in = read_inbox(*b);
  ASSERT_EQ(in.frames.size(), 5u);
  const char* from[] = {"alice", "carol", "alice", "alice", "carol"};
  const std::int64_t seq[] = {1, 1, 2, 3, 2};
  for (std::size_t i = 0; i < 5; ++i) {
    SCOPED_TRACE("inbox frame " + std::to_string(i));
    check_message(in.frames[i], from[i], "bob", seq[i]);
    check_same_message(in.frames[i], acks[i]);
  }
  EXPECT_EQ(str(in.frames[0].head, "text"), "a1");
  ASSERT_TRUE(in.frames[2].binary);
  EXPECT_EQ(str(in.frames[2].head, "name"), "cat.png");
  EXPECT_EQ(str(in.frames[2].head, "mime"), "image/png");
  EXPECT_EQ(in.frames[2].payload, payload);
  EXPECT_EQ(integer(in.inbox, "count"), 5) << to_string(in.inbox);
  EXPECT_FALSE(flag(in.inbox, "more"));
}

TEST_F(StoreInbox, a_later_connection_gets_only_what_no_connection_of_its_id_was_handed) {
  auto a = connect("alice");
  send_text(*a, "bob", "waiting", "c1", "stored");
  {
    auto b1 = open("bob");
    EXPECT_EQ(read_inbox(*b1).frames.size(), 1u);
    expect_receipt(*a, "bob", 1, "delivered");
    auto b2 = connect("bob");  // opened while b1 is still there: nothing left for it
    // Delivered live to both: not in any later inbox either.
    send_text(*a, "bob", "live", "c2", "delivered");
    read_chat(*b1);
    read_chat(*b2);
    ASSERT_TRUE(b1->close());
    ASSERT_TRUE(b2->close());
  }
  auto again = connect("bob");  // throws unless the inbox is empty
  again->expect_nothing(ms{200});
}

TEST_F(StoreInbox, an_ids_own_messages_are_never_in_its_inbox) {
  {
    auto a1 = connect("alice"), a2 = connect("alice");
    send_text(*a1, "bob", "to bob", "c1", "stored");
    read_chat(*a2);
    a1->send_json(obj({{"type", "msg"}, {"to", "alice"}, {"text", "note"}, {"cid", "n1"}}));
    auto f = a1->read_json();  // a1 may get its own note (at most once) before the ack
    if (type_of(f) == "msg") f = a1->read_json();
    EXPECT_EQ(type_of(f), "ack") << to_string(f);
    read_chat(*a2);
    ASSERT_TRUE(a1->close());
    ASSERT_TRUE(a2->close());
  }
  auto a = connect("alice");
  a->expect_nothing(ms{200});
  auto h = history(*a, obj({{"with", "alice"}}));
  EXPECT_EQ(integer(h.reply, "count"), 1) << "the note was kept: " << to_string(h.reply);
}

// --inbox-push-max: at most that many pushed, `more` says the rest waits for `history`.
class StoreInboxCap : public store_test {
  std::vector<std::string> extra_flags() const override { return {"--inbox-push-max", "2"}; }
};

TEST_F(StoreInboxCap, the_cap_pushes_the_oldest_with_more_true_and_history_fetches_the_rest) {
  auto a = connect("alice");
  for (int i = 1; i <= 5; ++i)
    send_text(*a, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");
  auto b = open("bob");
  auto in = read_inbox(*b);
  ASSERT_EQ(in.frames.size(), 2u);
  check_message(in.frames[0], "alice", "bob", 1);
  check_message(in.frames[1], "alice", "bob", 2);
  EXPECT_EQ(integer(in.inbox, "count"), 2) << to_string(in.inbox);
  EXPECT_TRUE(flag(in.inbox, "more")) << to_string(in.inbox);

  auto h = history(*b, obj({{"with", "alice"}, {"after", 2}, {"cid", "rest"}}));
  ASSERT_EQ(h.frames.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    check_message(h.frames[i], "alice", "bob", static_cast<std::int64_t>(i) + 3);
    EXPECT_EQ(str(h.frames[i].head, "text"), "m" + std::to_string(i + 3));
  }
  EXPECT_FALSE(flag(h.reply, "more"));
}

}  // namespace
}  // namespace parley::it
