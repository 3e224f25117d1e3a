// Many connections and rude ones: 1000 concurrent clients, TCP resets in the middle of frames
// and requests, and the server still serving afterwards.
#include "chat_test.hpp"

#include <cstdio>
#include <random>
#include <set>

namespace parley::it {
namespace {

class scale : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--threads", "2"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(scale, thousand_concurrent_connections) {
  constexpr int n = 1000;
  const std::string prefix = unique_id("k") + "_";
  std::vector<std::unique_ptr<ws_client>> clients;
  clients.reserve(n);
  auto t0 = steady::now();
  // Upgrades in waves of 250 (all in flight at once within a wave).
  for (int wave = 0; wave < n; wave += 250) {
    for (int i = wave; i < wave + 250; ++i) {
      clients.push_back(client());
      clients.back()->start("/ws/" + prefix + std::to_string(i));
    }
    for (int i = wave; i < wave + 250; ++i)
      ASSERT_TRUE(clients[i]->wait_open(ms{20000}))
          << "client " << i << " did not connect: " << clients[i]->close_error().message();
  }
  for (int i = 0; i < n; ++i) {
    auto w = clients[i]->read_json(ms{10000});
    ASSERT_EQ(type_of(w), "welcome") << to_string(w);
    ASSERT_EQ(str(w, "id"), prefix + std::to_string(i));
  }
  std::printf("[measure] %d connections upgraded and welcomed in %.0f ms\n", n, ms_since(t0));

  // who: at most 1000 ids listed, total counts all (1000 + the asker).
  auto asker = connect(prefix + "asker");
  asker->send_json(obj({{"type", "who"}, {"cid", "all"}}));
  auto w = asker->read_json(ms{10000});
  ASSERT_EQ(type_of(w), "who");
  EXPECT_EQ(w.at("online").as_array().size(), 1000u) << "who must list at most 1000 ids";
  EXPECT_GE(w.at("total").to_number<std::int64_t>(), n + 1);

  // Round trips between random pairs, all in flight at once.
  std::mt19937 rng(7);
  constexpr int pairs = 200;
  std::vector<std::pair<int, int>> sent;
  for (int k = 0; k < pairs; ++k) {
    int from = static_cast<int>(rng() % n), to = static_cast<int>(rng() % n);
    if (from == to) continue;
    clients[from]->send_json(obj({{"type", "msg"},
                                  {"to", prefix + std::to_string(to)},
                                  {"text", "r" + std::to_string(k)},
                                  {"cid", "k" + std::to_string(k)}}));
    sent.emplace_back(from, to);
  }
  std::vector<int> expected_in(n, 0), expected_acks(n, 0);
  for (auto [from, to] : sent) {
    ++expected_in[to];
    ++expected_acks[from];
  }
  for (int i = 0; i < n; ++i) {
    int msgs = 0, acks = 0;
    for (int k = 0; k < expected_in[i] + expected_acks[i]; ++k) {
      auto m = clients[i]->read_json(ms{10000});
      msgs += type_of(m) == "msg";
      acks += type_of(m) == "ack";
    }
    EXPECT_EQ(msgs, expected_in[i]) << "client " << i;
    EXPECT_EQ(acks, expected_acks[i]) << "client " << i;
  }
  for (auto& c : clients)
    EXPECT_EQ(c->pending(), 0u);
  // Everyone still connected.
  for (int i = 0; i < n; ++i)
    ASSERT_FALSE(clients[i]->closed()) << "client " << i;
  std::printf("[measure] %zu round trips among %d connections done at %.0f ms\n", sent.size(), n,
              ms_since(t0));
}

TEST_F(scale, tcp_resets_mid_frame_and_mid_request_leave_the_server_serving) {
  auto partner = connect(unique_id("partner"));
  std::vector<std::string> reset_ids;
  for (int i = 0; i < 30; ++i) {
    const std::string id = unique_id("rude");
    auto r = raw_ws(id);
    if (i % 3 == 0) {
      // No cid: the partner's only frames are then `left`s (and offline errors for the
      // flooded ones below), read together at the end.
      partner->send_json(obj({{"type", "msg"}, {"to", id}, {"text", "hi"}}));
      ASSERT_TRUE(r->read_frame()) << "msg not delivered";
      reset_ids.push_back(id);
    }
    // Half a frame: a header announcing 1000 bytes, then 100 of them, then a reset.
    std::string f = client_frame(1, std::string(1000, 'x'));
    r->send(f.substr(0, 100 + (i % 7)));
    r->reset();
  }
  for (int i = 0; i < 20; ++i) {
    // Half an HTTP request, then a reset.
    raw_client r(port());
    std::string req = "GET /ws/" + unique_id("half") +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgr";
    r.send(req.substr(0, 10 + i * 3));
    r.reset();
  }
  for (int i = 0; i < 10; ++i) {
    // A reset while the server is writing to the connection.
    const std::string id = unique_id("busy");
    auto r = raw_ws(id, 4096);
    partner->send_json(obj({{"type", "msg"}, {"to", id}, {"text", "first"}}));
    ASSERT_TRUE(r->read_frame()) << "msg not delivered";
    for (int k = 0; k < 20; ++k)
      partner->send_json(obj({{"type", "msg"}, {"to", id}, {"text", std::string(8000, 'b')}}));
    r->reset();
    reset_ids.push_back(id);
  }
  // Every partner of a reset id is told, once.
  std::set<std::string> left;
  auto t0 = steady::now();
  while (left.size() < reset_ids.size() && ms_since(t0) < 5000) {
    auto f = partner->next(ms{5000});
    if (!f) break;
    auto v = json::parse(f->data).as_object();
    if (type_of(v) == "left") {
      EXPECT_TRUE(left.insert(str(v, "id")).second) << "left twice for " << str(v, "id");
    } else {
      EXPECT_TRUE(type_of(v) == "ack" || type_of(v) == "error") << to_string(v);
    }
  }
  EXPECT_EQ(left.size(), reset_ids.size()) << "not every reset partner was reported as left";

  ASSERT_TRUE(server().running()) << "the server died";
  const std::string b = unique_id("after");
  auto ca = connect(unique_id("after")), cb = connect(b);
  send_msg(*ca, b, "still serving", "s");
  EXPECT_EQ(str(cb->read_json(), "text"), "still serving");
}

}  // namespace
}  // namespace parley::it
