// What Parley itself reports about its store: /healthz "store":"ok" and the store counters and
// gauge of /metrics, while the store writes and while it cannot (a file-size limit of 1 byte).
#include <boost/json/parse.hpp>

#include <cstdio>
#include <sstream>

#include "store_test.hpp"

namespace parley::it {
namespace {

// The value of an unlabelled sample `name` in Prometheus text; -1 when missing.
double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ')
      return std::stod(line.substr(name.size() + 1));
  return -1;
}

class StoreHealth : public store_test {
 protected:
  std::string metrics() {
    auto r = http_get(port(), "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }
};

TEST_F(StoreHealth, healthz_reports_the_store_ok) {
  PARLEY_SKIP_ON_PEER();
  auto a = connect("alice");
  auto r = http_get(port(), "/healthz");
  EXPECT_EQ(r.status, 200) << r.body;
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  ASSERT_FALSE(ec) << r.body;
  ASSERT_TRUE(v.is_object()) << r.body;
  const auto& o = v.as_object();
  EXPECT_EQ(str(o, "status"), "ok") << r.body;
  EXPECT_EQ(str(o, "store"), "ok") << r.body;
  EXPECT_GE(integer(o, "connections"), 1) << r.body;
  EXPECT_TRUE(o.contains("uptime_seconds")) << r.body;
}

TEST_F(StoreHealth, metrics_count_commits_committed_messages_and_syncs) {
  PARLEY_SKIP_ON_PEER();
  auto a = connect("alice");
  const auto before = metrics();
  EXPECT_EQ(metric(before, "parley_store_up"), 1) << before;
  for (int i = 0; i < 5; ++i)
    send_text(*a, "bob", "m", "c" + std::to_string(i), "stored");
  const auto after = metrics();
  auto delta = [&](const char* name) { return metric(after, name) - metric(before, name); };
  EXPECT_GE(metric(before, "parley_store_commits_total"), 0) << before;
  EXPECT_GE(delta("parley_store_committed_messages_total"), 5) << after;
  EXPECT_GE(delta("parley_store_commits_total"), 1) << after;
  EXPECT_LE(delta("parley_store_commits_total"), 5) << "more commits than messages: " << after;
  EXPECT_GE(delta("parley_store_syncs_total"), 1) << "acked means an fsync: " << after;
  EXPECT_EQ(metric(after, "parley_store_commit_failures_total"), 0) << after;
  EXPECT_EQ(metric(after, "parley_store_up"), 1) << after;
}

TEST_F(StoreHealth, commits_are_grouped_one_sync_covers_many_messages) {
  PARLEY_SKIP_ON_PEER();
  constexpr int per_client = 50, clients = 4;
  std::vector<std::unique_ptr<raw_client>> senders;
  for (int i = 0; i < clients; ++i)
    senders.push_back(raw_connect("s" + std::to_string(i)));
  const auto before = metrics();
  for (int i = 0; i < clients; ++i) {
    std::string burst;  // one TCP write per client
    for (int k = 0; k < per_client; ++k)
      burst += client_frame(
          1, R"({"type":"msg","to":"bob","text":"x","cid":"c)" + std::to_string(k) + R"("})");
    senders[i]->send(burst);
  }
  for (auto& s : senders)
    for (int k = 0; k < per_client; ++k)
      ASSERT_EQ(type_of(read_raw_json(*s)), "ack");
  const auto after = metrics();
  const double messages = metric(after, "parley_store_committed_messages_total") -
                          metric(before, "parley_store_committed_messages_total");
  const double commits =
      metric(after, "parley_store_commits_total") - metric(before, "parley_store_commits_total");
  const double syncs =
      metric(after, "parley_store_syncs_total") - metric(before, "parley_store_syncs_total");
  std::printf("[measure] %.0f messages committed in %.0f commits with %.0f syncs\n", messages,
              commits, syncs);
  EXPECT_EQ(messages, clients * per_client);
  EXPECT_LT(commits, clients * per_client / 2) << "commits are not grouped";
  EXPECT_LT(syncs, clients * per_client / 2) << "an fsync per message, not per batch";
}

TEST_F(StoreHealth, a_store_that_cannot_write_shows_in_healthz_and_metrics_until_it_can) {
  PARLEY_SKIP_ON_PEER();
  PARLEY_SKIP_ON_POSTGRES("a read-only data dir");
  auto a = connect("alice");
  send_text(*a, "bob", "before", "c1", "stored");
  set_file_size_limit(server().pid(), 1);
  a->send_json(obj({{"type", "msg"}, {"to", "bob"}, {"text", "during"}, {"cid", "c2"}}));
  expect_error(*a, "unavailable", "c2");
  auto r = http_get(port(), "/healthz");
  EXPECT_EQ(r.status, 503) << r.body;
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(str(v, "status"), "unavailable") << r.body;
  EXPECT_EQ(str(v, "store").rfind("unavailable: ", 0), 0u) << r.body;
  auto m = metrics();
  EXPECT_GE(metric(m, "parley_store_commit_failures_total"), 1) << m;
  EXPECT_EQ(metric(m, "parley_store_up"), 0) << m;

  set_file_size_limit(server().pid(), RLIM_INFINITY);
  auto ack = send_until_not_unavailable(
      *a, obj({{"type", "msg"}, {"to", "bob"}, {"text", "during"}, {"cid", "c2"}}));
  ASSERT_EQ(type_of(ack), "ack") << to_string(ack);
  r = http_get(port(), "/healthz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(metric(metrics(), "parley_store_up"), 1);
}

// --retention-days (Parley only: node-ws keeps everything): older messages leave history and
// first_seq moves on; seq does not restart. 0.00002 days is 1.7 s.
class StoreRetention : public store_test {
  std::vector<std::string> extra_flags() const override { return {"--retention-days", "0.00002"}; }
};

TEST_F(StoreRetention, older_messages_leave_history_and_first_seq_moves_on) {
  PARLEY_SKIP_ON_PEER();
  auto a = connect("alice");
  send_text(*a, "bob", "old1", "c1", "stored");
  send_text(*a, "bob", "old2", "c2", "stored");
  history_reply h;
  auto deadline = steady::now() + std::chrono::seconds(15);
  do {
    run_for(ms{250});
    h = history(*a, obj({{"with", "bob"}}));
  } while (!h.frames.empty() && steady::now() < deadline);
  EXPECT_TRUE(h.frames.empty()) << "messages older than --retention-days still in history";
  EXPECT_EQ(integer(h.reply, "first_seq"), 3)
      << "no kept message: last_seq + 1 " << to_string(h.reply);
  auto next = send_text(*a, "bob", "new", "c3", "stored");
  EXPECT_EQ(integer(next, "seq"), 3);
}

// A conversation whose every message expired goes on from its last seq after a restart: its
// recipient's cursor is already past the old seqs, so a new seq 1 would never reach its inbox.
TEST_F(StoreRetention, a_conversation_emptied_by_retention_keeps_its_seqs_across_a_restart) {
  PARLEY_SKIP_ON_PEER();
  {
    auto a = connect("alice");
    auto b = connect("bob");
    send_text(*a, "bob", "old1", "c1", "delivered");
    read_chat(*b);
    send_text(*a, "bob", "old2", "c2", "delivered");
    read_chat(*b);
    history_reply h;
    auto deadline = steady::now() + std::chrono::seconds(15);
    do {
      run_for(ms{250});
      h = history(*a, obj({{"with", "bob"}}));
    } while (!h.frames.empty() && steady::now() < deadline);
    ASSERT_TRUE(h.frames.empty()) << "messages older than --retention-days still in history";
  }
  restart(stop_how::term);
  auto a = connect("alice");
  auto next = send_text(*a, "bob", "after the restart", "c3", "stored");
  EXPECT_EQ(integer(next, "seq"), 3);
  auto b = open("bob");
  inbox_push pushed = read_inbox(*b);
  ASSERT_EQ(pushed.frames.size(), 1u) << to_string(pushed.inbox);
  EXPECT_EQ(integer(pushed.frames[0].head, "seq"), 3);
}

}  // namespace
}  // namespace parley::it
