// Restarts on the same data dir (protocol-v2.md "Stores", "Acked means durable", "Retries are
// safe", cursors): the epoch, history and seq, cursors, waiting messages and dedup survive a
// SIGTERM and a kill -9; every acked message survives a kill -9 in the middle of a burst.
#include <boost/json/parse.hpp>

#include <cstdio>
#include <map>
#include <set>

#include "store_test.hpp"

namespace parley::it {
namespace {

class StoreRestart : public store_test {
 protected:
  std::string epoch_of(const std::string& id) {
    json::object welcome;
    auto c = open(id, &welcome);
    return str(welcome, "epoch");
  }

  // alice sends three messages to bob (two live, one stored), the server restarts as `how`,
  // and the history, the seqs and the next seq are as before.
  void history_and_seq_survive(stop_how how) {
    std::vector<json::object> acks;
    {
      auto a = connect("alice"), b = connect("bob");
      acks.push_back(send_text(*a, "bob", "one", "c1", "delivered"));
      acks.push_back(send_text(*a, "bob", "two", "c2", "delivered"));
      a->send_json(obj({{"type", "watch"}, {"ids", json::array{"bob"}}}));
      EXPECT_TRUE(flag(a->read_json(), "online"));
      ASSERT_TRUE(b->close());
      // The server has seen bob go once alice has bob's `left` (they are partners) and
      // presence offline, in either order.
      std::set<std::string> seen;
      for (int i = 0; i < 2; ++i) {
        auto f = a->read_json();
        seen.insert(type_of(f));
        if (type_of(f) == "presence") {
          EXPECT_FALSE(flag(f, "online")) << to_string(f);
        }
      }
      EXPECT_EQ(seen, (std::set<std::string>{"left", "presence"}));
      acks.push_back(send_text(*a, "bob", "three", "c3", "stored"));
    }
    restart(how);
    auto a = connect("alice");
    auto h = history(*a, obj({{"with", "bob"}}));
    ASSERT_EQ(h.frames.size(), 3u) << to_string(h.reply);
    const char* texts[] = {"one", "two", "three"};
    for (std::size_t i = 0; i < 3; ++i) {
      check_message(h.frames[i], "alice", "bob", static_cast<std::int64_t>(i) + 1);
      check_same_message(h.frames[i], acks[i]);
      EXPECT_EQ(str(h.frames[i].head, "text"), texts[i]);
    }
    auto next = send_text(*a, "bob", "four", "c4", "stored");
    EXPECT_EQ(integer(next, "seq"), 4) << "seq goes on after a restart";
  }
};

TEST_F(StoreRestart, the_epoch_stays_across_restarts_and_a_new_data_dir_gets_another) {
  const auto epoch = epoch_of("alice");
  ASSERT_FALSE(epoch.empty());
  restart(stop_how::term);
  EXPECT_EQ(epoch_of("alice"), epoch) << "after SIGTERM";
  restart(stop_how::kill);
  EXPECT_EQ(epoch_of("alice"), epoch) << "after kill -9";

  temp_dir other;
  server_process fresh({"--store", "sqlite", "--data-dir", other.path()});
  ws_client c(ioc_, fresh.port());
  auto welcome = c.connect("alice");
  EXPECT_FALSE(str(welcome, "epoch").empty()) << to_string(welcome);
  EXPECT_NE(str(welcome, "epoch"), epoch) << "a new store is a new epoch";
}

TEST_F(StoreRestart, history_and_seq_survive_a_sigterm) {
  history_and_seq_survive(stop_how::term);
}

TEST_F(StoreRestart, history_and_seq_survive_a_kill_9) {
  history_and_seq_survive(stop_how::kill);
}

TEST_F(StoreRestart, waiting_messages_survive_a_kill_9_and_their_receipt_follows) {
  std::vector<json::object> acks;
  {
    auto a = connect("alice");
    acks.push_back(send_text(*a, "bob", "w1", "c1", "stored"));
    acks.push_back(send_text(*a, "bob", "w2", "c2", "stored"));
  }
  restart(stop_how::kill);
  auto a = connect("alice");
  auto b = open("bob");
  auto in = read_inbox(*b);
  ASSERT_EQ(in.frames.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    check_same_message(in.frames[i], acks[i]);
  expect_receipt(*a, "bob", 2, "delivered");
}

TEST_F(StoreRestart, cursors_survive_a_sigterm) {
  {
    auto a = connect("alice");
    for (int i = 1; i <= 3; ++i)
      send_text(*a, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");
    auto b = open("bob");
    EXPECT_EQ(read_inbox(*b).frames.size(), 3u);
    expect_receipt(*a, "bob", 3, "delivered");
    b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 2}}));
    expect_receipt(*a, "bob", 2, "read");
  }
  restart(stop_how::term);
  auto b = connect("bob");  // delivered cursor kept: nothing pushed again
  auto it = items_of(conversations(*b, {}));
  ASSERT_EQ(it.size(), 1u);
  EXPECT_EQ(integer(it[0], "read"), 2) << to_string(it[0]);
  EXPECT_EQ(integer(it[0], "delivered"), 3) << to_string(it[0]);
  EXPECT_EQ(integer(it[0], "unread"), 1) << to_string(it[0]);
  auto a = connect("alice");
  it = items_of(conversations(*a, {}));
  ASSERT_EQ(it.size(), 1u);
  EXPECT_EQ(integer(it[0], "peer_read"), 2) << to_string(it[0]);
  EXPECT_EQ(integer(it[0], "peer_delivered"), 3) << to_string(it[0]);
  // A read at the kept cursor changes nothing; one past it is new.
  b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 2}}));
  b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 3}}));
  expect_receipt(*a, "bob", 3, "read");
}

TEST_F(StoreRestart, after_a_kill_9_cursors_are_never_ahead_of_what_was_read_or_delivered) {
  {
    auto a = connect("alice");
    for (int i = 1; i <= 3; ++i)
      send_text(*a, "bob", "m" + std::to_string(i), "c" + std::to_string(i), "stored");
    auto b = open("bob");
    EXPECT_EQ(read_inbox(*b).frames.size(), 3u);
    b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 2}}));
    expect_receipt(*a, "bob", 3, "delivered");
    expect_receipt(*a, "bob", 2, "read");
  }
  restart(stop_how::kill);
  auto b = open("bob");
  auto in = read_inbox(*b);  // a cursor may be behind: then some are pushed again
  EXPECT_LE(in.frames.size(), 3u);
  auto it = items_of(conversations(*b, {}));
  ASSERT_EQ(it.size(), 1u);
  EXPECT_LE(integer(it[0], "read"), 2) << to_string(it[0]);
  EXPECT_GE(integer(it[0], "read"), 0) << to_string(it[0]);
  EXPECT_LE(integer(it[0], "delivered"), 3) << to_string(it[0]);
}

TEST_F(StoreRestart, a_retry_after_a_restart_is_still_a_duplicate) {
  json::object first;
  {
    auto a = connect("alice");
    first = send_text(*a, "bob", "once", "c1", "stored");
  }
  restart(stop_how::kill);
  auto a = connect("alice");
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "once"}, {"cid", "c1"}}));
  auto dup = read_ack(*a, "c1");
  EXPECT_TRUE(flag(dup, "duplicate")) << to_string(dup);
  EXPECT_EQ(str(dup, "mid"), str(first, "mid"));
  EXPECT_EQ(integer(dup, "seq"), integer(first, "seq"));
  EXPECT_EQ(integer(dup, "ts"), integer(first, "ts"));
  auto b = open("bob");
  EXPECT_EQ(read_inbox(*b).frames.size(), 1u) << "stored once";
}

TEST_F(StoreRestart, every_acked_message_survives_a_kill_9_gapless_in_send_order) {
  constexpr int total = 300, acked_before_kill = 40;
  std::map<std::int64_t, json::object> acks;  // seq -> ack
  {
    auto a = connect("alice");
    for (int i = 0; i < total; ++i)
      a->send_json(obj({{"type", "msg"},
                        {"to", "bob"},
                        {"text", "m" + std::to_string(i)},
                        {"cid", "c" + std::to_string(i)}}));
    while (static_cast<int>(acks.size()) < acked_before_kill) {
      auto ack = a->read_json();
      ASSERT_EQ(type_of(ack), "ack") << to_string(ack);
      acks[integer(ack, "seq")] = ack;
    }
    restart(stop_how::kill);  // while later messages are still being committed
    // Acks that were already on their way count too.
    while (auto f = a->next(ms{500}))  // until the dead server's connection reads as closed
      if (!f->binary) {
        auto v = json::parse(f->data).as_object();
        if (type_of(v) == "ack") acks[integer(v, "seq")] = v;
      }
  }
  auto a = connect("alice");
  history_reply h;
  std::vector<chat_frame> kept;
  for (std::int64_t after = 0;;) {
    h = history(*a, obj({{"with", "bob"}, {"after", after}, {"limit", 200}}));
    kept.insert(kept.end(), h.frames.begin(), h.frames.end());
    if (!flag(h.reply, "more") || h.frames.empty()) break;
    after = integer(h.frames.back().head, "seq");
  }
  ASSERT_GE(kept.size(), acks.size());
  int last_index = -1;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const auto& m = kept[i].head;
    EXPECT_EQ(integer(m, "seq"), static_cast<std::int64_t>(i) + 1) << "a gap: " << to_string(m);
    const int index = std::stoi(str(m, "text").substr(1));
    EXPECT_GT(index, last_index) << "not in send order: " << to_string(m);
    last_index = index;
  }
  for (const auto& [seq, ack] : acks) {
    ASSERT_LE(seq, static_cast<std::int64_t>(kept.size()))
        << "acked, then lost: " << to_string(ack);
    const auto& m = kept[static_cast<std::size_t>(seq - 1)].head;
    EXPECT_EQ(str(m, "mid"), str(ack, "mid")) << to_string(m);
    EXPECT_EQ("c" + str(m, "text").substr(1), str(ack, "cid")) << to_string(m);
  }
  std::printf("[measure] kill -9 after %zu acks of %d sent: %zu messages kept\n", acks.size(),
              total, kept.size());
}

// One server per data dir: a second would hand out the same seqs, so it refuses to start.
TEST_F(StoreRestart, a_second_server_on_the_same_data_dir_refuses_to_start) {
  PARLEY_SKIP_ON_PEER();
  PARLEY_SKIP_ON_POSTGRES("the data-dir lock");
  command_result second = run_command({parley_binary(), "--host", "127.0.0.1", "--port", "0",
                                       "--store", "sqlite", "--data-dir", data_dir()});
  EXPECT_EQ(second.status, 1) << second.err;
  EXPECT_NE(second.err.find("another parley is using the data dir"), std::string::npos)
      << second.err;
  auto a = connect("alice");  // the first one serves on
  send_text(*a, "bob", "still here", "c1", "stored");
}

}  // namespace

}  // namespace parley::it
