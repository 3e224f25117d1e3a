#include "parley/store/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "parley/core/hub.hpp"
#include "support/frames.hpp"

namespace parley::store {
namespace {

namespace fs = std::filesystem;
using boost::json::object;
using test::recording_sink;
using namespace std::chrono_literals;

// A frame as a JSON object: a text frame's object, or a binary frame's header with its payload
// added as "payload" (and "binary": true).
object frame_object(const protocol::shared_frame& frame) {
  if (!frame->bytes().empty() && static_cast<std::uint8_t>(frame->bytes()[0]) == 0x82) {
    test::decoded_file file = test::file_json(frame);
    file.header["binary"] = true;
    file.header["payload"] = file.payload;
    return file.header;
  }
  return test::frame_json(frame);
}

std::vector<object> objects(const std::vector<protocol::shared_frame>& frames) {
  std::vector<object> out;
  for (const auto& f : frames)
    out.push_back(frame_object(f));
  return out;
}

std::string type_of(const object& o) {
  if (o.contains("binary")) return "file";
  auto* t = o.if_contains("type");
  return t && t->is_string() ? std::string(t->as_string()) : std::string();
}

std::vector<object> of_type(const std::vector<object>& all, std::string_view type) {
  std::vector<object> out;
  for (const object& o : all)
    if (type_of(o) == type) out.push_back(o);
  return out;
}

std::int64_t integer(const object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_int64()) {
    ADD_FAILURE() << "no integer \"" << key << "\" in " << boost::json::serialize(o);
    return -1;
  }
  return v->as_int64();
}

std::string text(const object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) {
    ADD_FAILURE() << "no string \"" << key << "\" in " << boost::json::serialize(o);
    return {};
  }
  return std::string(v->as_string());
}

bool flag(const object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->as_bool();
}

// One connection of an id: its member, joined to the hub while `online`, and the sink that
// records what the hub and the store hand it.
struct connection {
  connection(core::hub& h, std::string id, bool online = true)
      : hub(h), out(std::make_shared<recording_sink>()), m{std::move(id), out.get()} {
    if (online) hub.join(m);
  }
  ~connection() { hub.leave(m); }
  core::store_client client() { return {out, &m}; }
  std::vector<object> take() { return objects(out->take_frames()); }

  core::hub& hub;
  std::shared_ptr<recording_sink> out;
  core::member m;
  std::size_t asked = 0;  // requests made to the store through the fixture
};

class SqliteStore : public testing::Test {
 protected:
  SqliteStore() {
    static std::atomic<int> made{0};
    dir = fs::temp_directory_path() /
          ("parley-store-unit-" + std::to_string(::getpid()) + "-" + std::to_string(made++));
    fs::remove_all(dir);
    config.data_dir = dir.string();
  }
  ~SqliteStore() override {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void open() { store = std::make_unique<sqlite_store>(config, hub); }
  void reopen() {
    store.reset();
    open();
  }
  fs::path db_path() const { return dir / "parley.db"; }

  // Each request below is counted in the asker's `asked`, for settle() to wait for.
  // Sends a text message, or a file when `binary`.
  void send(connection& from, std::string to, std::string body, std::optional<std::string> cid,
            bool binary = false, std::optional<std::string> name = {},
            std::optional<std::string> mime = {}) {
    store->send(from.client(), {std::move(to), std::move(cid), binary, std::move(body),
                                std::move(name), std::move(mime)});
    ++from.asked;
  }
  void history(connection& asker, std::string with, std::optional<std::int64_t> before,
               std::optional<std::int64_t> after, std::int64_t limit,
               std::optional<std::string> cid = "h") {
    store->history(asker.client(), {std::move(with), before, after, limit, std::move(cid)});
    ++asker.asked;
  }
  void conversations(connection& asker, std::int64_t limit, std::optional<double> before_ts = {},
                     std::optional<std::string> cid = "k") {
    store->conversations(asker.client(), {limit, before_ts, std::move(cid)});
    ++asker.asked;
  }
  void read(connection& reader, std::string with, std::int64_t seq) {
    store->read(reader.client(), std::move(with), seq, std::nullopt);
    ++reader.asked;
  }
  void push_inbox(connection& to) {
    store->push_inbox(to.client());
    ++to.asked;
  }
  // Waits (bounded) until the store has answered everything `c` asked.
  void settle(connection& c) {
    ASSERT_TRUE(c.out->wait_for_answers(c.asked))
        << c.m.id << ": " << c.out->answers() << " of " << c.asked << " answered";
  }
  // The ack of a message: sends it, waits for it, returns it.
  object sent(connection& from, std::string to, std::string body, std::string cid) {
    send(from, std::move(to), std::move(body), cid);
    settle(from);
    std::vector<object> acks = of_type(from.take(), "ack");
    if (acks.size() != 1) {
      ADD_FAILURE() << acks.size() << " acks for " << cid;
      return {};
    }
    return acks[0];
  }
  // A history page: its frames, then the closing `history` object.
  std::pair<std::vector<object>, object> page(connection& asker, std::string with,
                                              std::optional<std::int64_t> before,
                                              std::optional<std::int64_t> after,
                                              std::int64_t limit) {
    asker.out->clear();
    history(asker, with, before, after, limit);
    settle(asker);
    std::vector<object> all = asker.take();
    if (all.empty() || type_of(all.back()) != "history") {
      ADD_FAILURE() << "no history frame last";
      return {};
    }
    object last = all.back();
    all.pop_back();
    return {all, last};
  }
  static std::vector<std::int64_t> seqs(const std::vector<object>& frames) {
    std::vector<std::int64_t> out;
    for (const object& o : frames)
      out.push_back(integer(o, "seq"));
    return out;
  }

  fs::path dir;
  store_config config;
  core::hub hub;
  std::unique_ptr<sqlite_store> store;
};

// ---- the database, with a second connection of our own

// A read-only connection to the store's file, as another process would open it.
class reader {
 public:
  explicit reader(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  ~reader() { sqlite3_close(db_); }
  // The integer in the first column of each row of `sql` bound to `text` (when given).
  std::vector<std::int64_t> integers(const char* sql, std::optional<std::string> text = {}) {
    std::vector<std::int64_t> out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return out;
    }
    if (text) sqlite3_bind_text(stmt, 1, text->data(), static_cast<int>(text->size()), nullptr);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
      out.push_back(sqlite3_column_int64(stmt, 0));
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return out;
  }
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error ? error : "?");
    }
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

// A sink that, the moment an ack reaches it (on the store's thread), looks for the acked
// message in the file through a connection of its own: it is there only if it was committed.
class commit_checking_sink : public recording_sink {
 public:
  explicit commit_checking_sink(fs::path path) : path_(std::move(path)) {}
  void deliver(protocol::shared_frame frame) override {
    check(frame);
    recording_sink::deliver(std::move(frame));
  }
  void store_done(protocol::shared_frame last) override {
    if (last) check(last);
    recording_sink::store_done(std::move(last));
  }
  std::atomic<int> acks{0}, found{0};

 private:
  void check(const protocol::shared_frame& frame) {
    object o = frame_object(frame);
    if (type_of(o) != "ack") return;
    ++acks;
    reader db(path_);
    auto rows = db.integers("SELECT seq FROM messages WHERE mid = ?", text(o, "mid"));
    if (rows.size() == 1 && rows[0] == integer(o, "seq")) ++found;
  }
  fs::path path_;
};

// ---- tests

TEST_F(SqliteStore, CreatesTheFileAndAnEpochStableAcrossReopen) {
  open();
  EXPECT_TRUE(fs::exists(db_path()));
  std::string epoch(store->epoch());
  EXPECT_EQ(epoch.size(), 32u);
  EXPECT_EQ(epoch.find_first_not_of("0123456789abcdef"), std::string::npos) << epoch;
  reopen();
  EXPECT_EQ(store->epoch(), epoch);
  EXPECT_TRUE(store->health().up);

  // Another data dir is another store.
  store_config other = config;
  other.data_dir = (dir / "other").string();
  sqlite_store second(other, hub);
  EXPECT_NE(second.epoch(), epoch);
}

TEST_F(SqliteStore, TheMigrationsTableRecordsEachVersion) {
  open();
  store.reset();
  reader db(db_path());
  EXPECT_EQ(db.integers("SELECT version FROM schema_migrations ORDER BY version"),
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(db.integers("SELECT count(*) FROM schema_migrations WHERE applied_ms > 0"),
            (std::vector<std::int64_t>{2}));
}

TEST_F(SqliteStore, RefusesADatabaseWithANewerSchema) {
  open();
  store.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "INSERT INTO schema_migrations VALUES(99, 1)", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  try {
    open();
    FAIL() << "a database of schema version 99 was opened";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("schema version 99"), std::string::npos) << what;
    EXPECT_NE(what.find("newer"), std::string::npos) << what;
    EXPECT_NE(what.find("parley.db"), std::string::npos) << "the file is not named: " << what;
  }
  // Refused, not changed: the version is still there.
  reader db(db_path());
  EXPECT_EQ(db.integers("SELECT max(version) FROM schema_migrations"),
            (std::vector<std::int64_t>{99}));
}

TEST_F(SqliteStore, AckedStoredThenDelivered) {
  open();
  connection a(hub, "a");
  object ack = sent(a, "b", "hello", "c1");
  EXPECT_EQ(text(ack, "cid"), "c1");
  EXPECT_EQ(integer(ack, "seq"), 1);
  EXPECT_EQ(text(ack, "status"), "stored");
  EXPECT_FALSE(ack.contains("duplicate"));
  EXPECT_FALSE(text(ack, "mid").empty());
  EXPECT_GT(integer(ack, "ts"), 1'600'000'000'000);

  connection b(hub, "b");
  ack = sent(a, "b", "again", "c2");
  EXPECT_EQ(integer(ack, "seq"), 2);
  EXPECT_EQ(text(ack, "status"), "delivered");
  std::vector<object> got = b.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(type_of(got[0]), "msg");
  EXPECT_EQ(text(got[0], "from"), "a");
  EXPECT_EQ(text(got[0], "to"), "b");
  EXPECT_EQ(text(got[0], "text"), "again");
  EXPECT_EQ(integer(got[0], "seq"), 2);
  EXPECT_EQ(text(got[0], "mid"), text(ack, "mid"));
  EXPECT_EQ(integer(got[0], "ts"), integer(ack, "ts"));

  // Without a cid: no ack, one answer all the same.
  send(a, "b", "no cid", std::nullopt);
  settle(a);
  EXPECT_TRUE(of_type(a.take(), "ack").empty());
}

TEST_F(SqliteStore, NoteToOneselfIsDelivered) {
  open();
  connection a(hub, "a");
  connection a2(hub, "a");
  object ack = sent(a, "a", "note", "n1");
  EXPECT_EQ(integer(ack, "seq"), 1);
  EXPECT_EQ(text(ack, "status"), "delivered");
  std::vector<object> other = a2.take();
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(text(other[0], "text"), "note");
}

// Acked means durable: when the ack reaches the connection, a second connection to the file
// already sees the row with the ack's seq.
TEST_F(SqliteStore, AnAckComesOnlyAfterTheCommit) {
  open();
  constexpr int senders = 4, each = 40;
  std::vector<std::shared_ptr<commit_checking_sink>> sinks;
  std::vector<std::unique_ptr<core::member>> members;
  for (int i = 0; i < senders; ++i) {
    sinks.push_back(std::make_shared<commit_checking_sink>(db_path()));
    members.push_back(
        std::make_unique<core::member>(core::member{"s" + std::to_string(i), sinks.back().get()}));
    hub.join(*members.back());
  }
  connection online_peer(hub, "p");
  for (int n = 0; n < each; ++n) {
    for (int i = 0; i < senders; ++i) {
      store->send({sinks[i], members[i].get()},
                  {n % 2 ? "p" : "offline", "c" + std::to_string(n), false, "m", {}, {}});
    }
  }
  for (int i = 0; i < senders; ++i) {
    EXPECT_TRUE(sinks[i]->wait_for_answers(each));
    EXPECT_EQ(sinks[i]->acks.load(), each);
    EXPECT_EQ(sinks[i]->found.load(), each) << "acks whose row was not yet in the file";
    hub.leave(*members[i]);
  }
}

// Seqs are 1..N per conversation, without gaps or repeats, in the order each connection sent,
// with many connections (some of one id) sending at once from threads of their own.
TEST_F(SqliteStore, SeqsAreGaplessPerConversationAcrossManySenders) {
  open();
  constexpr int ids = 4, per_id = 2, each = 150;
  std::vector<std::unique_ptr<connection>> senders;
  for (int i = 0; i < ids; ++i)
    for (int j = 0; j < per_id; ++j)
      senders.push_back(std::make_unique<connection>(hub, "s" + std::to_string(i)));
  connection r(hub, "r");
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < senders.size(); ++k) {
    threads.emplace_back([&, k] {
      connection& c = *senders[k];
      for (int n = 0; n < each; ++n) {
        // To r (online), and to z (offline): two conversations per id.
        store->send(c.client(), {n % 3 ? "r" : "z",
                                 std::to_string(k) + ":" + std::to_string(n),
                                 false,
                                 std::to_string(k) + ":" + std::to_string(n),
                                 {},
                                 {}});
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::map<std::pair<std::string, std::string>, std::set<std::int64_t>> by_conversation;
  for (std::size_t k = 0; k < senders.size(); ++k) {
    connection& c = *senders[k];
    ASSERT_TRUE(c.out->wait_for_answers(each)) << k;
    std::map<std::string, std::int64_t> last;  // per recipient: seqs grow in sending order
    int acks = 0;
    for (const object& o : c.take()) {
      if (type_of(o) != "ack") continue;  // copies of the other connection's messages
      ++acks;
      std::string cid = text(o, "cid");
      int n = std::stoi(cid.substr(cid.find(':') + 1));
      std::string to = n % 3 ? "r" : "z";
      std::int64_t seq = integer(o, "seq");
      EXPECT_GT(seq, last[to]) << cid;
      last[to] = seq;
      EXPECT_TRUE(by_conversation[std::pair(c.m.id, to)].insert(seq).second)
          << "seq given twice: " << cid;
      EXPECT_EQ(text(o, "status"), to == "r" ? "delivered" : "stored");
    }
    EXPECT_EQ(acks, each);
  }
  ASSERT_EQ(by_conversation.size(), 2u * ids);
  for (const auto& [pair, got] : by_conversation) {
    EXPECT_EQ(*got.begin(), 1) << pair.first << "-" << pair.second;
    EXPECT_EQ(*got.rbegin(), static_cast<std::int64_t>(got.size()))
        << "a gap in " << pair.first << "-" << pair.second;
  }
  // r got each of its messages once, in seq order per conversation.
  std::map<std::string, std::int64_t> last;
  std::size_t to_r = 0;
  for (const object& o : r.take()) {
    ASSERT_EQ(type_of(o), "msg");
    std::int64_t seq = integer(o, "seq");
    EXPECT_EQ(seq, last[text(o, "from")] + 1);
    last[text(o, "from")] = seq;
    ++to_r;
  }
  std::size_t expected_to_r = 0;
  for (const auto& [pair, got] : by_conversation)
    if (pair.second == "r") expected_to_r += got.size();
  EXPECT_EQ(to_r, expected_to_r);
  // The file agrees.
  store.reset();
  reader db(db_path());
  EXPECT_EQ(db.integers("SELECT count(*) FROM messages"),
            (std::vector<std::int64_t>{static_cast<std::int64_t>(senders.size() * each)}));
  EXPECT_EQ(db.integers("SELECT count(*) FROM (SELECT conversation, seq FROM messages "
                        "GROUP BY conversation, seq HAVING count(*) > 1)"),
            (std::vector<std::int64_t>{0}));
}

// Retries within one batch: the copy staged with the first is acked after it as a duplicate,
// and nothing is stored or delivered twice.
TEST_F(SqliteStore, DuplicatesWithinABatch) {
  open();
  connection a(hub, "a");
  connection b(hub, "b");
  constexpr int n = 30;
  for (int i = 0; i < n; ++i) {
    send(a, "b", "m" + std::to_string(i), "c" + std::to_string(i));
    send(a, "b", "m" + std::to_string(i), "c" + std::to_string(i));
  }
  settle(a);
  std::vector<object> acks = of_type(a.take(), "ack");
  ASSERT_EQ(acks.size(), 2u * n);
  std::map<std::string, object> first;
  for (const object& ack : acks) {
    std::string cid = text(ack, "cid");
    auto [it, fresh] = first.emplace(cid, ack);
    if (fresh) {
      EXPECT_FALSE(ack.contains("duplicate")) << cid;
      continue;
    }
    EXPECT_TRUE(flag(ack, "duplicate")) << cid;  // and after the first one's ack
    EXPECT_EQ(text(ack, "mid"), text(it->second, "mid"));
    EXPECT_EQ(integer(ack, "seq"), integer(it->second, "seq"));
    EXPECT_EQ(integer(ack, "ts"), integer(it->second, "ts"));
    EXPECT_EQ(text(ack, "status"), "delivered");
  }
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(integer(first["c" + std::to_string(i)], "seq"), i + 1);
  EXPECT_EQ(b.take().size(), static_cast<std::size_t>(n));
  EXPECT_EQ(store->stats().duplicates.load(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(store->stats().committed_messages.load(), static_cast<std::uint64_t>(n));
}

TEST_F(SqliteStore, DuplicatesAcrossAReopen) {
  open();
  connection a(hub, "a");
  object first = sent(a, "b", "once", "c1");
  reopen();
  object again = sent(a, "b", "once", "c1");
  EXPECT_TRUE(flag(again, "duplicate"));
  EXPECT_EQ(text(again, "mid"), text(first, "mid"));
  EXPECT_EQ(integer(again, "seq"), 1);
  EXPECT_EQ(integer(again, "ts"), integer(first, "ts"));
  EXPECT_EQ(text(again, "status"), "stored");  // b never connected

  // The same cid from another sender, or another cid: new messages.
  connection c(hub, "c");
  object other = sent(c, "b", "x", "c1");
  EXPECT_FALSE(other.contains("duplicate"));
  EXPECT_EQ(integer(other, "seq"), 1);  // the conversation {b, c}
  object next = sent(a, "b", "y", "c2");
  EXPECT_FALSE(next.contains("duplicate"));
  EXPECT_EQ(integer(next, "seq"), 2);
}

// A duplicate's ack tells the message's state now: delivered once the recipient has it.
TEST_F(SqliteStore, DuplicateAckReportsTheStateNow) {
  open();
  connection a(hub, "a");
  EXPECT_EQ(text(sent(a, "b", "hi", "c1"), "status"), "stored");
  {
    connection b(hub, "b");
    push_inbox(b);
    settle(b);
  }
  object again = sent(a, "b", "hi", "c1");
  EXPECT_TRUE(flag(again, "duplicate"));
  EXPECT_EQ(text(again, "status"), "delivered");
}

TEST_F(SqliteStore, TheDedupWindowEnds) {
  config.dedup_seconds = 0.2;
  open();
  connection a(hub, "a");
  EXPECT_EQ(integer(sent(a, "b", "x", "c1"), "seq"), 1);
  EXPECT_TRUE(flag(sent(a, "b", "x", "c1"), "duplicate"));
  std::this_thread::sleep_for(300ms);
  object later = sent(a, "b", "x", "c1");
  EXPECT_FALSE(later.contains("duplicate"));
  EXPECT_EQ(integer(later, "seq"), 2);
}

TEST_F(SqliteStore, InboxFull) {
  config.max_inbox_messages = 3;
  open();
  connection a(hub, "a");
  for (int i = 0; i < 3; ++i)
    send(a, "b", "m", "c" + std::to_string(i));
  send(a, "b", "m", "full");
  settle(a);
  std::vector<object> got = a.take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(type_of(got[3]), "error");
  EXPECT_EQ(text(got[3], "code"), "inbox_full");
  EXPECT_EQ(text(got[3], "cid"), "full");
  // Notes to oneself never fill an inbox.
  EXPECT_EQ(text(sent(a, "a", "note", "n"), "type"), "ack");
}

// The inbox: messages that waited, oldest first across conversations, then `inbox`; their
// senders learn they were delivered.
TEST_F(SqliteStore, InboxInCommitOrderWithReceipts) {
  open();
  connection a(hub, "a");
  connection b(hub, "b");
  EXPECT_EQ(integer(sent(a, "r", "a1", "1"), "seq"), 1);
  EXPECT_EQ(integer(sent(b, "r", "b1", "2"), "seq"), 1);
  EXPECT_EQ(integer(sent(a, "r", "a2", "3"), "seq"), 2);
  send(a, "r", "file bytes", "4", true, "cat.png", "image/png");
  settle(a);
  a.take();
  EXPECT_EQ(integer(sent(b, "r", "b2", "5"), "seq"), 2);

  connection r(hub, "r");
  push_inbox(r);
  settle(r);
  std::vector<object> got = r.take();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(text(got[0], "text"), "a1");
  EXPECT_EQ(text(got[1], "text"), "b1");
  EXPECT_EQ(text(got[2], "text"), "a2");
  EXPECT_EQ(type_of(got[3]), "file");
  EXPECT_EQ(text(got[3], "name"), "cat.png");
  EXPECT_EQ(text(got[3], "mime"), "image/png");
  EXPECT_EQ(text(got[3], "payload"), "file bytes");
  EXPECT_EQ(integer(got[3], "seq"), 3);
  EXPECT_EQ(text(got[4], "text"), "b2");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(text(got[i], "to"), "r");
  EXPECT_EQ(got[5], (test::json_object(R"({"type":"inbox","count":5,"more":false})")));

  auto receipt = [](std::string_view with, int seq) {
    return test::json_object(R"({"type":"receipt","with":")" + std::string(with) + R"(","seq":)" +
                             std::to_string(seq) + R"(,"status":"delivered"})");
  };
  EXPECT_EQ(a.take(), (std::vector<object>{receipt("r", 3)}));
  EXPECT_EQ(b.take(), (std::vector<object>{receipt("r", 2)}));

  // Nothing waits any more, for this connection or the next.
  connection r2(hub, "r");
  push_inbox(r2);
  settle(r2);
  EXPECT_EQ(r2.take().at(0), (test::json_object(R"({"type":"inbox","count":0,"more":false})")));
  EXPECT_TRUE(a.take().empty());
}

TEST_F(SqliteStore, InboxPushMaxLeavesTheRestForLater) {
  config.inbox_push_max = 3;
  open();
  connection a(hub, "a");
  for (int i = 1; i <= 5; ++i)
    send(a, "r", "m" + std::to_string(i), std::nullopt);
  settle(a);
  {
    connection r(hub, "r");
    push_inbox(r);
    settle(r);
    std::vector<object> got = r.take();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(seqs(std::vector<object>(got.begin(), got.begin() + 3)),
              (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(integer(got[3], "count"), 3);
    EXPECT_TRUE(flag(got[3], "more"));
  }
  EXPECT_EQ(integer(a.take().at(0), "seq"), 3);  // the receipt
  connection r(hub, "r");
  push_inbox(r);
  settle(r);
  std::vector<object> got = r.take();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(seqs(std::vector<object>(got.begin(), got.begin() + 2)),
            (std::vector<std::int64_t>{4, 5}));
  EXPECT_FALSE(flag(got[2], "more"));
}

TEST_F(SqliteStore, InboxAndCursorsSurviveAReopen) {
  open();
  connection a(hub, "a");
  sent(a, "r", "one", "1");
  sent(a, "r", "two", "2");
  {
    connection r(hub, "r");
    push_inbox(r);
    settle(r);
  }
  sent(a, "r", "three", "3");
  reopen();
  connection r(hub, "r");
  push_inbox(r);
  settle(r);
  std::vector<object> got = r.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(text(got[0], "text"), "three");
  EXPECT_EQ(integer(got[1], "count"), 1);
}

TEST_F(SqliteStore, ReadReceiptsAndReadSync) {
  open();
  connection a(hub, "a");
  connection b1(hub, "b");
  connection b2(hub, "b");
  for (int i = 1; i <= 3; ++i)
    sent(a, "b", "m" + std::to_string(i), std::to_string(i));
  b1.take();
  b2.take();

  read(b1, "a", 2);
  settle(b1);
  EXPECT_EQ(a.take(), (std::vector<object>{test::json_object(
                          R"({"type":"receipt","with":"b","seq":2,"status":"read"})")}));
  EXPECT_EQ(b2.take(),
            (std::vector<object>{test::json_object(R"({"type":"read","with":"a","seq":2})")}));
  EXPECT_TRUE(b1.take().empty());

  // Lower or equal, or 0: nothing changes, nobody hears of it.
  read(b1, "a", 2);
  read(b2, "a", 1);
  read(b1, "a", 0);
  settle(b1);
  settle(b2);
  EXPECT_TRUE(a.take().empty());
  EXPECT_TRUE(b1.take().empty());
  EXPECT_TRUE(b2.take().empty());

  // Past the conversation's last seq, or in a conversation that never was: bad_request.
  read(b1, "a", 4);
  read(b1, "nobody", 1);
  settle(b1);
  std::vector<object> errors = b1.take();
  ASSERT_EQ(errors.size(), 2u);
  for (const object& e : errors) {
    EXPECT_EQ(type_of(e), "error");
    EXPECT_EQ(text(e, "code"), "bad_request");
  }
  EXPECT_TRUE(a.take().empty());

  // The cursors as conversations report them.
  conversations(b1, 10);
  settle(b1);
  object items = b1.take().at(0);
  const auto& item = items.at("items").as_array().at(0).as_object();
  EXPECT_EQ(integer(item, "read"), 2);
  EXPECT_EQ(integer(item, "delivered"), 3);
  EXPECT_EQ(integer(item, "unread"), 1);
  conversations(a, 10);
  settle(a);
  object mine = a.take().at(0).at("items").as_array().at(0).as_object();
  EXPECT_EQ(integer(mine, "peer_read"), 2);
  EXPECT_EQ(integer(mine, "peer_delivered"), 3);
  EXPECT_EQ(integer(mine, "unread"), 0);  // a's own messages are not unread to a
}

// Reading what waits in the inbox also counts as having it: it is not pushed later.
TEST_F(SqliteStore, ReadingMovesTheDeliveredCursor) {
  open();
  connection a(hub, "a");
  sent(a, "b", "1", "1");
  sent(a, "b", "2", "2");
  {
    connection b(hub, "b", /*online=*/false);  // not joined: the inbox is not pushed
    read(b, "a", 1);
    settle(b);
  }
  connection b(hub, "b");
  push_inbox(b);
  settle(b);
  std::vector<object> got = b.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(integer(got[0], "seq"), 2);
}

TEST_F(SqliteStore, HistoryPages) {
  open();
  connection a(hub, "a");
  for (int i = 1; i <= 10; ++i)
    send(a, "b", "m" + std::to_string(i), std::nullopt);
  send(a, "b", "file", std::nullopt, true, "f.bin", std::nullopt);  // seq 11
  settle(a);
  a.take();
  using seq_list = std::vector<std::int64_t>;

  auto [newest, closing] = page(a, "b", {}, {}, 4);
  EXPECT_EQ(seqs(newest), (seq_list{8, 9, 10, 11}));
  EXPECT_EQ(closing,
            (test::json_object(
                R"({"type":"history","with":"b","cid":"h","count":4,"more":true,"first_seq":1})")));
  EXPECT_EQ(text(newest[0], "text"), "m8");
  EXPECT_EQ(text(newest[0], "from"), "a");
  EXPECT_EQ(type_of(newest[3]), "file");
  EXPECT_EQ(text(newest[3], "payload"), "file");
  EXPECT_EQ(text(newest[3], "name"), "f.bin");

  auto [older, more_older] = page(a, "b", 8, {}, 4);
  EXPECT_EQ(seqs(older), (seq_list{4, 5, 6, 7}));
  EXPECT_TRUE(flag(more_older, "more"));
  auto [oldest, no_more] = page(a, "b", 4, {}, 4);
  EXPECT_EQ(seqs(oldest), (seq_list{1, 2, 3}));
  EXPECT_FALSE(flag(no_more, "more"));
  EXPECT_EQ(integer(no_more, "count"), 3);
  auto [none, none_more] = page(a, "b", 1, {}, 4);
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(flag(none_more, "more"));
  auto [before_all, _] = page(a, "b", 500, {}, 2);
  EXPECT_EQ(seqs(before_all), (seq_list{10, 11}));

  // `after`: from the first message with 0, on to the newest.
  auto [first, more_newer] = page(a, "b", {}, 0, 4);
  EXPECT_EQ(seqs(first), (seq_list{1, 2, 3, 4}));
  EXPECT_TRUE(flag(more_newer, "more"));
  auto [tail, tail_more] = page(a, "b", {}, 8, 4);
  EXPECT_EQ(seqs(tail), (seq_list{9, 10, 11}));
  EXPECT_FALSE(flag(tail_more, "more"));
  auto [exact, exact_more] = page(a, "b", {}, 7, 4);
  EXPECT_EQ(seqs(exact), (seq_list{8, 9, 10, 11}));
  EXPECT_FALSE(flag(exact_more, "more"));
  auto [past, past_more] = page(a, "b", {}, 11, 4);
  EXPECT_TRUE(past.empty());
  EXPECT_FALSE(flag(past_more, "more"));

  // The peer sees the same conversation; the largest page holds 200.
  connection b(hub, "b");
  auto [all, all_more] = page(b, "a", {}, {}, 200);
  EXPECT_EQ(all.size(), 11u);
  EXPECT_FALSE(flag(all_more, "more"));
  EXPECT_EQ(text(all[0], "to"), "b");

  // A conversation that never was: nothing, first_seq 1; without a cid, none echoed.
  b.out->clear();
  history(b, "nobody", {}, {}, 50, std::nullopt);
  settle(b);
  EXPECT_EQ(b.take().at(0),
            (test::json_object(
                R"({"type":"history","with":"nobody","count":0,"more":false,"first_seq":1})")));
}

TEST_F(SqliteStore, Conversations) {
  open();
  connection a(hub, "a");
  connection b(hub, "b");
  sent(a, "b", "to b", "1");                                   // {a,b} 1
  sent(b, "a", std::string(300, 'x') + "\xC3\xA9", "2");       // {a,b} 2, from b
  sent(a, "c", "to c", "3");                                   // {a,c} 1
  send(a, "d", "payload", "4", true, "cat.png", "image/png");  // {a,d} 1
  settle(a);
  a.take();
  b.take();

  conversations(a, 50);
  settle(a);
  object reply = a.take().at(0);
  EXPECT_EQ(text(reply, "type"), "conversations");
  EXPECT_EQ(text(reply, "cid"), "k");
  EXPECT_FALSE(flag(reply, "more"));
  const auto& items = reply.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  std::vector<std::string> order;
  for (const auto& item : items)
    order.push_back(text(item.as_object(), "with"));
  EXPECT_EQ(order, (std::vector<std::string>{"d", "c", "b"}));  // newest activity first

  const object& with_b = items.at(2).as_object();
  EXPECT_EQ(integer(with_b, "last_seq"), 2);
  EXPECT_EQ(integer(with_b, "unread"), 1);
  EXPECT_EQ(integer(with_b, "read"), 0);
  EXPECT_EQ(integer(with_b, "delivered"), 2);
  EXPECT_EQ(integer(with_b, "peer_read"), 0);
  EXPECT_EQ(integer(with_b, "peer_delivered"), 2);
  const object& last = with_b.at("last").as_object();
  EXPECT_EQ(text(last, "from"), "b");
  EXPECT_EQ(integer(last, "seq"), 2);
  EXPECT_EQ(text(last, "text"), std::string(200, 'x'));  // first 200 bytes

  const object& with_d = items.at(0).as_object();
  EXPECT_EQ(integer(with_d, "peer_delivered"), 0);  // d never connected
  const object& file = with_d.at("last").as_object();
  EXPECT_EQ(text(file, "name"), "cat.png");
  EXPECT_EQ(text(file, "mime"), "image/png");
  EXPECT_FALSE(file.contains("text"));

  // A page of 2, and the next one by before_ts (strict).
  conversations(a, 2);
  settle(a);
  object first = a.take().at(0);
  EXPECT_TRUE(flag(first, "more"));
  ASSERT_EQ(first.at("items").as_array().size(), 2u);
  std::int64_t oldest_ts = integer(first.at("items").as_array().at(1).as_object(), "last_ts");
  conversations(a, 2, static_cast<double>(oldest_ts));
  settle(a);
  object next = a.take().at(0);
  EXPECT_FALSE(flag(next, "more"));
  for (const auto& item : next.at("items").as_array()) {
    EXPECT_LT(integer(item.as_object(), "last_ts"), oldest_ts);
    EXPECT_NE(text(item.as_object(), "with"), "c");
  }
  conversations(a, 50, static_cast<double>(integer(with_b, "last_ts")));
  settle(a);
  object earlier = a.take().at(0);
  for (const auto& item : earlier.at("items").as_array())
    EXPECT_LT(integer(item.as_object(), "last_ts"), integer(with_b, "last_ts"));

  // b has one conversation; c none (it never connected, but may ask).
  conversations(b, 50);
  settle(b);
  EXPECT_EQ(b.take().at(0).at("items").as_array().size(), 1u);
  connection z(hub, "z");
  conversations(z, 50, {}, std::nullopt);
  settle(z);
  EXPECT_EQ(z.take().at(0),
            (test::json_object(R"({"type":"conversations","items":[],"more":false})")));
}

// Retention drops old messages from history; first_seq moves on, and seqs go on
// from the last one, also after a restart that found no message left in the
// conversation.
TEST_F(SqliteStore, RetentionMovesFirstSeqAndSeqsGoOn) {
  config.retention_days = 0.05 / 86400;  // 50 ms
  open();
  connection a(hub, "a");
  for (int i = 0; i < 3; ++i)
    sent(a, "b", "old", std::to_string(i));
  object last;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    std::this_thread::sleep_for(20ms);
    last = page(a, "b", {}, {}, 50).second;
  } while (integer(last, "count") != 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(integer(last, "count"), 0);
  EXPECT_EQ(integer(last, "first_seq"), 4);  // last_seq + 1 when nothing is kept

  reopen();
  EXPECT_EQ(integer(page(a, "b", {}, {}, 50).second, "first_seq"), 4);
  EXPECT_EQ(integer(sent(a, "b", "new", "n"), "seq"), 4);
}

// A database of schema version 1 (before conversations kept their last seq) is migrated in
// place: its messages stay, and version 2 is recorded.
TEST_F(SqliteStore, MigratesAVersionOneDatabase) {
  open();
  connection a(hub, "a");
  sent(a, "b", "one", "1");
  sent(a, "b", "two", "2");
  std::string epoch(store->epoch());
  store.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "ALTER TABLE conversations DROP COLUMN last_seq; "
                           "DELETE FROM schema_migrations WHERE version > 1",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  open();
  EXPECT_EQ(store->epoch(), epoch);
  EXPECT_EQ(seqs(page(a, "b", {}, {}, 50).first), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(integer(sent(a, "b", "three", "3"), "seq"), 3);
  EXPECT_TRUE(flag(sent(a, "b", "one", "1"), "duplicate"));
  store.reset();
  reader db(db_path());
  EXPECT_EQ(db.integers("SELECT version FROM schema_migrations ORDER BY version"),
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(db.integers("SELECT last_seq FROM conversations"), (std::vector<std::int64_t>{0}));
}

// Another connection holding the database's write lock: the store's next commit fails
// (SQLITE_BUSY) until it is released, as it would on a full or read-only disk.
class write_lock {
 public:
  explicit write_lock(const fs::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~write_lock() { release(); }
  void release() {
    if (!db_) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

// A failed commit: `unavailable`, nothing acked or delivered, the store reported down; the
// retry with the same cid is stored once, in a new conversation whose row the failed
// transaction had written and lost.
TEST_F(SqliteStore, AFailedCommitAcksNothingAndTheRetryIsStoredOnce) {
  open();
  connection a(hub, "a");
  connection b(hub, "b");
  write_lock lock(db_path());
  send(a, "b", "hello", "c1");
  settle(a);
  std::vector<object> got = a.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(type_of(got[0]), "error");
  EXPECT_EQ(text(got[0], "code"), "unavailable");
  EXPECT_EQ(text(got[0], "cid"), "c1");
  EXPECT_TRUE(b.take().empty());
  EXPECT_FALSE(store->health().up);
  EXPECT_FALSE(store->health().reason.empty());
  EXPECT_GE(store->stats().commit_failures.load(), 1u);
  EXPECT_EQ(store->stats().committed_messages.load(), 0u);

  lock.release();
  object ack = sent(a, "b", "hello", "c1");
  EXPECT_EQ(integer(ack, "seq"), 1);
  EXPECT_FALSE(ack.contains("duplicate"));
  EXPECT_EQ(text(ack, "status"), "delivered");
  EXPECT_EQ(b.take().size(), 1u);
  EXPECT_TRUE(store->health().up);

  reopen();
  EXPECT_EQ(seqs(page(a, "b", {}, {}, 50).first), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(integer(sent(a, "b", "next", "c2"), "seq"), 2);
}

// The same with a conversation whose row exists without any message (a version-1 database
// where retention had emptied it): the failed commit must not forget that row.
TEST_F(SqliteStore, AFailedCommitKeepsAConversationRowWithoutMessages) {
  open();
  store.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO conversations(a, b) VALUES('a', 'x')", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  open();
  connection a(hub, "a");
  {
    write_lock lock(db_path());
    send(a, "x", "lost", "c1");
    settle(a);
    EXPECT_EQ(text(a.take().at(0), "code"), "unavailable");
  }
  object ack = sent(a, "x", "kept", "c1");
  EXPECT_EQ(text(ack, "type"), "ack") << boost::json::serialize(ack);
  EXPECT_EQ(integer(ack, "seq"), 1);
  EXPECT_EQ(integer(sent(a, "x", "more", "c2"), "seq"), 2);
}

}  // namespace
}  // namespace parley::store
