// `conversations` (protocol-v2.md "History and resume" and its Details): every field of an
// item, unread counting only the peer's messages, newest activity first, limit, more,
// before_ts (strict), `last` (text cut to 200 bytes at a character boundary, name and mime).
#include <map>

#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreConversations : public store_test {
 protected:
  // Waits until the clock is past `ts`, so that the next message gets a later ts.
  void wait_past(std::int64_t ts) {
    for (int i = 0; i < 100 && now_ms() <= ts; ++i)
      run_for(ms{1});
  }

  // The item for `with` in an answer (fails when missing).
  static json::object item_with(const json::object& answer, const std::string& with) {
    for (auto& item : items_of(answer))
      if (str(item, "with") == with) return item;
    ADD_FAILURE() << "no item with " << with << ": " << to_string(answer);
    return {};
  }

  static std::vector<std::string> withs(const json::object& answer) {
    std::vector<std::string> out;
    for (auto& item : items_of(answer))
      out.push_back(str(item, "with"));
    return out;
  }
};

TEST_F(StoreConversations, every_field_of_an_item_follows_messages_receipts_and_reads) {
  auto a = connect("alice");
  json::object ack;
  for (int i = 1; i <= 3; ++i)
    ack = send_text(*a, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");

  auto k = conversations(*a, obj({{"cid", "k1"}}));
  EXPECT_EQ(str(k, "cid"), "k1");
  EXPECT_FALSE(flag(k, "more")) << to_string(k);
  auto items = items_of(k);
  ASSERT_EQ(items.size(), 1u) << to_string(k);
  auto it = items[0];
  EXPECT_EQ(str(it, "with"), "bob");
  EXPECT_EQ(integer(it, "last_seq"), 3);
  EXPECT_EQ(integer(it, "last_ts"), integer(ack, "ts"));
  EXPECT_EQ(integer(it, "unread"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "read"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "delivered"), 3) << "own messages move delivered: " << to_string(it);
  EXPECT_EQ(integer(it, "peer_read"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "peer_delivered"), 0) << to_string(it);
  ASSERT_TRUE(it.contains("last") && it.at("last").is_object()) << to_string(it);
  auto last = it.at("last").as_object();
  EXPECT_EQ(str(last, "from"), "alice");
  EXPECT_EQ(integer(last, "seq"), 3);
  EXPECT_EQ(str(last, "text"), "m3");
  EXPECT_FALSE(has(last, "name") || has(last, "mime")) << to_string(last);

  auto b = open("bob");
  EXPECT_EQ(read_inbox(*b).frames.size(), 3u);
  expect_receipt(*a, "bob", 3, "delivered");
  auto reply = send_text(*b, "alice", "reply", "r1", "delivered");
  read_chat(*a);
  b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 2}}));
  expect_receipt(*a, "bob", 2, "read");

  it = item_with(conversations(*b, {}), "alice");
  EXPECT_EQ(integer(it, "last_seq"), 4) << to_string(it);
  EXPECT_EQ(integer(it, "last_ts"), integer(reply, "ts"));
  EXPECT_EQ(integer(it, "unread"), 1) << "alice's seq 3 is after bob's read 2: " << to_string(it);
  EXPECT_EQ(integer(it, "read"), 2) << to_string(it);
  EXPECT_EQ(integer(it, "delivered"), 4) << to_string(it);
  EXPECT_EQ(integer(it, "peer_read"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "peer_delivered"), 4) << to_string(it);
  last = it.at("last").as_object();
  EXPECT_EQ(str(last, "from"), "bob");
  EXPECT_EQ(integer(last, "seq"), 4);
  EXPECT_EQ(str(last, "text"), "reply");

  it = item_with(conversations(*a, {}), "bob");
  EXPECT_EQ(integer(it, "unread"), 1) << "only bob's seq 4 counts: " << to_string(it);
  EXPECT_EQ(integer(it, "read"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "delivered"), 4) << to_string(it);
  EXPECT_EQ(integer(it, "peer_read"), 2) << to_string(it);
  EXPECT_EQ(integer(it, "peer_delivered"), 4) << to_string(it);

  a->send_json(obj({{"type", "read"}, {"with", "bob"}, {"seq", 4}}));
  it = item_with(conversations(*a, {}), "bob");
  EXPECT_EQ(integer(it, "unread"), 0) << to_string(it);
  EXPECT_EQ(integer(it, "read"), 4) << to_string(it);
}

TEST_F(StoreConversations, unread_counts_only_the_peers_messages_after_my_read_cursor) {
  auto a = connect("alice"), b = connect("bob");
  for (int i = 1; i <= 2; ++i) {
    send_text(*a, "bob", "a", "a" + std::to_string(i), "delivered");
    read_chat(*b);
  }
  for (int i = 1; i <= 3; ++i) {
    send_text(*b, "alice", "b", "b" + std::to_string(i), "delivered");
    read_chat(*a);
  }
  EXPECT_EQ(integer(item_with(conversations(*a, {}), "bob"), "unread"), 3);
  EXPECT_EQ(integer(item_with(conversations(*b, {}), "alice"), "unread"), 2);
  b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 5}}));
  EXPECT_EQ(integer(item_with(conversations(*b, {}), "alice"), "unread"), 0);
  expect_receipt(*a, "bob", 5, "read");
  EXPECT_EQ(integer(item_with(conversations(*a, {}), "bob"), "unread"), 3);
}

TEST_F(StoreConversations, newest_activity_first_with_limit_and_more) {
  auto a = connect("alice");
  std::int64_t ts = 0;
  for (const char* to : {"bob", "carol", "dave", "bob"}) {
    wait_past(ts);
    ts = integer(send_text(*a, to, "hi", std::string("to-") + to + std::to_string(ts), "stored"),
                 "ts");
  }
  auto all = conversations(*a, obj({{"limit", 3}}));
  EXPECT_EQ(withs(all), (std::vector<std::string>{"bob", "dave", "carol"})) << to_string(all);
  EXPECT_FALSE(flag(all, "more")) << to_string(all);
  auto two = conversations(*a, obj({{"limit", 2}}));
  EXPECT_EQ(withs(two), (std::vector<std::string>{"bob", "dave"})) << to_string(two);
  EXPECT_TRUE(flag(two, "more")) << to_string(two);
  auto dflt = conversations(*a, {});
  EXPECT_EQ(withs(dflt).size(), 3u);
}

TEST_F(StoreConversations, before_ts_is_strict) {
  auto a = connect("alice");
  std::int64_t ts = 0;
  for (const char* to : {"p1", "p2", "p3", "p4"}) {
    wait_past(ts);
    ts = integer(send_text(*a, to, "hi", to, "stored"), "ts");
  }
  auto items = items_of(conversations(*a, {}));
  ASSERT_EQ(items.size(), 4u);
  const auto pivot = integer(items[1], "last_ts");
  auto older = conversations(*a, obj({{"before_ts", pivot}}));
  EXPECT_EQ(withs(older), (std::vector<std::string>{"p2", "p1"}))
      << "before_ts " << pivot << " keeps only earlier last_ts: " << to_string(older);
  auto none = conversations(*a, obj({{"before_ts", integer(items[3], "last_ts")}}));
  EXPECT_TRUE(items_of(none).empty()) << to_string(none);
  EXPECT_FALSE(flag(none, "more"));
  auto every = conversations(*a, obj({{"before_ts", integer(items[0], "last_ts") + 1}}));
  EXPECT_EQ(withs(every).size(), 4u) << to_string(every);
}

TEST_F(StoreConversations, last_text_is_cut_to_200_bytes_at_a_character_boundary) {
  auto a = connect("alice");
  const std::string e_acute = "\u00e9", han = "\u4e2d", grin = "\U0001F600";
  const std::map<std::string, std::pair<std::string, std::string>> cases{
      // peer: {text sent, `last.text` expected}
      {"p1", {std::string(199, 'x') + e_acute, std::string(199, 'x')}},
      {"p2", {std::string(300, 'y'), std::string(200, 'y')}},
      {"p3", {std::string(198, 'z') + e_acute, std::string(198, 'z') + e_acute}},
      {"p4", {std::string(198, 'w') + grin, std::string(198, 'w')}},
      {"p5", {std::string(197, 'v') + han + "x", std::string(197, 'v') + han}},
      {"p6", {std::string(199, 'u') + han, std::string(199, 'u')}},
      {"p7", {"short " + grin, "short " + grin}},
  };
  for (const auto& [peer, c] : cases)
    send_text(*a, peer, c.first, peer, "stored");
  auto k = conversations(*a, {});
  for (const auto& [peer, c] : cases) {
    auto last = item_with(k, peer).at("last").as_object();
    EXPECT_EQ(str(last, "text"), c.second) << peer << ": " << to_string(last);
  }
  // History keeps the whole text.
  auto h = history(*a, obj({{"with", "p2"}}));
  ASSERT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(str(h.frames[0].head, "text"), std::string(300, 'y'));
}

TEST_F(StoreConversations, last_of_a_file_has_its_name_and_mime_and_no_text) {
  auto a = connect("alice");
  a->send_binary(file_frame(
      obj({{"to", "p1"}, {"name", "cat.png"}, {"mime", "image/png"}, {"cid", "f1"}}), "png"));
  read_ack(*a, "f1");
  a->send_binary(file_frame(obj({{"to", "p2"}, {"name", "notes.txt"}, {"cid", "f2"}}), "txt"));
  read_ack(*a, "f2");
  a->send_binary(file_frame(obj({{"to", "p3"}, {"cid", "f3"}}), "raw"));
  read_ack(*a, "f3");
  auto k = conversations(*a, {});
  auto l1 = item_with(k, "p1").at("last").as_object();
  EXPECT_EQ(str(l1, "from"), "alice");
  EXPECT_EQ(integer(l1, "seq"), 1);
  EXPECT_EQ(str(l1, "name"), "cat.png");
  EXPECT_EQ(str(l1, "mime"), "image/png");
  EXPECT_FALSE(has(l1, "text")) << to_string(l1);
  auto l2 = item_with(k, "p2").at("last").as_object();
  EXPECT_EQ(str(l2, "name"), "notes.txt");
  EXPECT_FALSE(has(l2, "mime")) << to_string(l2);
  auto l3 = item_with(k, "p3").at("last").as_object();
  EXPECT_FALSE(has(l3, "name") || has(l3, "mime") || has(l3, "text")) << to_string(l3);
  EXPECT_EQ(integer(l3, "seq"), 1);
}

TEST_F(StoreConversations, a_note_to_oneself_is_one_item_with_oneself) {
  auto a1 = connect("alice"), a2 = connect("alice");
  a1->send_json(obj({{"type", "msg"}, {"to", "alice"}, {"text", "note"}}));
  read_chat(*a2);
  auto k = conversations(*a2, {});
  EXPECT_EQ(withs(k), std::vector<std::string>{"alice"}) << to_string(k);
  EXPECT_EQ(integer(item_with(k, "alice"), "last_seq"), 1);
}

TEST_F(StoreConversations, an_id_without_conversations_gets_an_empty_list) {
  auto a = connect("alice");
  auto k = conversations(*a, obj({{"cid", "k"}}));
  EXPECT_EQ(str(k, "cid"), "k");
  EXPECT_TRUE(items_of(k).empty()) << to_string(k);
  ASSERT_TRUE(k.contains("more") && k.at("more").is_bool()) << to_string(k);
  EXPECT_FALSE(flag(k, "more"));
}

TEST_F(StoreConversations, a_bad_limit_or_before_ts_is_bad_request_with_its_cid) {
  auto a = connect("alice");
  const char* bad[] = {
      R"({"type":"conversations","limit":0,"cid":"x1"})",
      R"({"type":"conversations","limit":201,"cid":"x2"})",
      R"({"type":"conversations","limit":-5,"cid":"x3"})",
      R"({"type":"conversations","limit":2.5,"cid":"x4"})",
      R"({"type":"conversations","limit":"5","cid":"x5"})",
      R"({"type":"conversations","before_ts":"yesterday","cid":"x6"})",
      R"({"type":"conversations","before_ts":true,"cid":"x7"})",
  };
  int n = 0;
  for (const char* frame : bad) {
    a->send_text(frame);
    expect_error(*a, "bad_request", "x" + std::to_string(++n));
  }
  EXPECT_TRUE(items_of(conversations(*a, obj({{"limit", 200}}))).empty());
}

}  // namespace
}  // namespace parley::it
