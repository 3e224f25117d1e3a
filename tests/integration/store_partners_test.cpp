// Version 1's `left` with a store (protocol-v2.md Details): chat partners form only by live
// delivery between two online ids, not by a stored message or the inbox.
#include "store_test.hpp"

namespace parley::it {
namespace {

class StorePartners : public store_test {
 protected:
  // Reads `watcher`'s frames until the presence of `id` going offline; fails on a `left`, and
  // on one that arrives within `grace` after it.
  void expect_offline_without_left(ws_client& watcher, const std::string& id, ms grace) {
    for (int i = 0; i < 20; ++i) {
      auto f = watcher.read_json();
      ASSERT_NE(type_of(f), "left") << "a stored message made partners: " << to_string(f);
      if (type_of(f) == "presence" && str(f, "id") == id && f.at("online").is_bool() &&
          !f.at("online").as_bool())
        break;
    }
    watcher.expect_nothing(grace);
  }

  void watch(ws_client& c, const std::string& id) {
    c.send_json(obj({{"type", "watch"}, {"ids", json::array{json::value(id)}}}));
    auto p = c.read_json();
    ASSERT_EQ(type_of(p), "presence") << to_string(p);
  }
};

TEST_F(StorePartners, live_delivery_makes_partners_and_left_follows_the_close) {
  auto a = connect("alice");
  {
    auto b = connect("bob");
    send_text(*a, "bob", "hi", "c1", "delivered");
    read_chat(*b);
    ASSERT_TRUE(b->close());
  }
  auto left = a->read_json();
  EXPECT_EQ(type_of(left), "left") << to_string(left);
  EXPECT_EQ(str(left, "id"), "bob");
}

TEST_F(StorePartners, a_stored_message_and_its_inbox_push_make_no_partners) {
  auto a = connect("alice");
  send_text(*a, "bob", "while you were out", "c1", "stored");
  watch(*a, "bob");
  {
    auto b = open("bob");
    EXPECT_EQ(read_inbox(*b).frames.size(), 1u);
    // alice gets bob's presence and the delivered receipt, in either order.
    bool receipt = false, online = false;
    for (int i = 0; i < 2; ++i) {
      auto f = a->read_json();
      receipt |= type_of(f) == "receipt";
      online |= type_of(f) == "presence";
    }
    EXPECT_TRUE(receipt && online);
    ASSERT_TRUE(b->close());
  }
  expect_offline_without_left(*a, "bob", ms{300});
}

TEST_F(StorePartners, a_live_reply_after_the_inbox_makes_partners) {
  auto a = connect("alice");
  send_text(*a, "bob", "while you were out", "c1", "stored");
  {
    auto b = open("bob");
    EXPECT_EQ(read_inbox(*b).frames.size(), 1u);
    expect_receipt(*a, "bob", 1, "delivered");
    send_text(*b, "alice", "back now", "r1", "delivered");
    read_chat(*a);
    ASSERT_TRUE(b->close());
  }
  auto left = a->read_json();
  EXPECT_EQ(type_of(left), "left") << to_string(left);
  EXPECT_EQ(str(left, "id"), "bob");
}

}  // namespace
}  // namespace parley::it
