// Receipts and read sync (protocol-v2.md "The inbox", "Read receipts"): `delivered` receipts
// after an inbox push, `read` -> a `read` receipt to the peer and a `read` sync to the reader's
// other connections, and every bad or no-op `read`.
#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreReceipts : public store_test {
 protected:
  // alice (two connections) sends `n` messages to bob (two connections), delivered live.
  void live_conversation(int n) {
    a1_ = connect("alice");
    a2_ = connect("alice");
    b1_ = connect("bob");
    b2_ = connect("bob");
    for (int i = 1; i <= n; ++i) {
      send_text(*a1_, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "delivered");
      for (auto* c : {a2_.get(), b1_.get(), b2_.get()})
        read_chat(*c);
    }
  }

  void send_read(ws_client& c, const std::string& with, std::int64_t seq) {
    c.send_json(obj({{"type", "read"}, {"with", with}, {"seq", seq}}));
  }

  std::unique_ptr<ws_client> a1_, a2_, b1_, b2_;
};

TEST_F(StoreReceipts, an_inbox_push_sends_a_delivered_receipt_to_every_connection_of_the_sender) {
  auto a1 = connect("alice"), a2 = connect("alice");
  for (int i = 1; i <= 3; ++i) {
    send_text(*a1, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");
    read_chat(*a2);
  }
  auto b = open("bob");
  EXPECT_EQ(read_inbox(*b).frames.size(), 3u);
  for (auto* c : {a1.get(), a2.get()}) {
    expect_receipt(*c, "bob", 3, "delivered");
    c->expect_nothing(ms{150});
  }
}

TEST_F(StoreReceipts, each_sender_gets_the_receipt_of_its_own_conversation) {
  auto a = connect("alice"), c = connect("carol");
  send_text(*a, "bob", "a1", "a1", "stored");
  send_text(*c, "bob", "c1", "c1", "stored");
  send_text(*a, "bob", "a2", "a2", "stored");
  auto b = open("bob");
  EXPECT_EQ(read_inbox(*b).frames.size(), 3u);
  expect_receipt(*a, "bob", 2, "delivered");
  expect_receipt(*c, "bob", 1, "delivered");
}

TEST_F(StoreReceipts, read_sends_a_read_receipt_to_the_peer_and_a_read_sync_to_the_other_tabs) {
  live_conversation(3);
  send_read(*b1_, "alice", 2);
  for (auto* c : {a1_.get(), a2_.get()}) {
    auto r = c->read_json();
    EXPECT_EQ(type_of(r), "receipt") << to_string(r);
    EXPECT_EQ(str(r, "with"), "bob") << to_string(r);
    EXPECT_EQ(integer(r, "seq"), 2) << to_string(r);
    EXPECT_EQ(str(r, "status"), "read") << to_string(r);
  }
  auto sync = b2_->read_json();
  EXPECT_EQ(type_of(sync), "read") << to_string(sync);
  EXPECT_EQ(str(sync, "with"), "alice") << to_string(sync);
  EXPECT_EQ(integer(sync, "seq"), 2) << to_string(sync);
  b1_->expect_nothing(ms{200});  // the reader itself gets no answer

  send_read(*b2_, "alice", 3);  // from the other tab: b1 is now the other one
  expect_receipt(*a1_, "bob", 3, "read");
  auto sync2 = b1_->read_json();
  EXPECT_EQ(type_of(sync2), "read") << to_string(sync2);
  EXPECT_EQ(integer(sync2, "seq"), 3);
}

TEST_F(StoreReceipts, a_read_at_or_below_the_cursor_or_of_zero_changes_nothing) {
  live_conversation(3);
  send_read(*b1_, "alice", 2);
  expect_receipt(*a1_, "bob", 2, "read");
  expect_receipt(*a2_, "bob", 2, "read");
  b2_->read_json();  // the sync
  for (std::int64_t seq : {2, 1, 0})
    send_read(*b1_, "alice", seq);
  // The conversations answer follows the effects of the reads before it.
  auto items = items_of(conversations(*b1_, obj({{"cid", "k"}})));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(integer(items[0], "read"), 2) << "cursors only grow: " << to_string(items[0]);
  for (auto* c : {a1_.get(), a2_.get(), b2_.get()})
    c->expect_nothing(ms{200});
}

TEST_F(StoreReceipts, a_read_past_the_last_seq_is_bad_request) {
  live_conversation(3);
  b1_->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 4}, {"cid", "r4"}}));
  expect_error(*b1_, "bad_request", "r4");
  // A conversation without messages has no seq 1 either.
  b1_->send_json(obj({{"type", "read"}, {"with", "carol"}, {"seq", 1}, {"cid", "rc"}}));
  expect_error(*b1_, "bad_request", "rc");
  b1_->send_json(obj({{"type", "read"}, {"with", "carol"}, {"seq", 0}, {"cid", "r0"}}));
  b1_->expect_nothing(ms{200});
  a1_->expect_nothing(ms{10});
}

TEST_F(StoreReceipts, a_read_with_a_bad_with_or_seq_is_bad_request) {
  live_conversation(1);
  const char* bad[] = {
      R"({"type":"read","seq":1,"cid":"x1"})",
      R"({"type":"read","with":"bad id","seq":1,"cid":"x2"})",
      R"({"type":"read","with":7,"seq":1,"cid":"x3"})",
      R"({"type":"read","with":"alice","cid":"x4"})",
      R"({"type":"read","with":"alice","seq":-1,"cid":"x5"})",
      R"({"type":"read","with":"alice","seq":1.5,"cid":"x6"})",
      R"({"type":"read","with":"alice","seq":"1","cid":"x7"})",
      R"({"type":"read","with":"alice","seq":true,"cid":"x8"})",
      R"({"type":"read","with":"alice","seq":null,"cid":"x9"})",
  };
  int n = 0;
  for (const char* frame : bad) {
    b1_->send_text(frame);
    expect_error(*b1_, "bad_request", "x" + std::to_string(++n));
  }
  a1_->expect_nothing(ms{200});
  b2_->expect_nothing(ms{10});
}

}  // namespace
}  // namespace parley::it
