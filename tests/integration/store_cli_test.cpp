// The store's operator commands (`parley store check`, `parley store export`) on a real SQLite
// file written by a real server: a sound store, one still in use, one broken on purpose through
// SQLite's C API (the invariants named one by one), a damaged file, a missing one; export's
// JSON lines checked against the acks, a file's bytes round-tripped through base64.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "store_test.hpp"

namespace parley::it {
namespace {

namespace fs = std::filesystem;

command_result parley_store(std::vector<std::string> args) {
  args.insert(args.begin(), {parley_binary(), "store"});
  return run_command(args, std::chrono::seconds(30));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `sql` on the file with SQLite's C API: how these tests break the store on purpose.
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  char* error = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

std::int64_t sql_integer(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  sqlite3_stmt* q = nullptr;
  std::int64_t value = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, query.c_str(), -1, &q, nullptr) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    value = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return value;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<json::object> json_lines(const std::string& out) {
  std::vector<json::object> lines;
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t end = out.find('\n', at);
    EXPECT_NE(end, std::string::npos) << "the last line has no line end";
    if (end == std::string::npos) end = out.size();
    boost::system::error_code ec;
    auto v = json::parse(out.substr(at, end - at), ec);
    EXPECT_TRUE(!ec && v.is_object()) << "not a JSON object: " << out.substr(at, end - at);
    if (!ec && v.is_object()) lines.push_back(v.as_object());
    at = end + 1;
  }
  return lines;
}

// RFC 4648 base64 (with padding), decoded here independently of the server's encoder.
std::string base64_decode(const std::string& text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  EXPECT_EQ(text.size() % 4, 0u) << "base64 without padding";
  std::string bytes;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    auto value = alphabet.find(c);
    EXPECT_NE(value, std::string::npos) << "not base64: " << c;
    bits = bits << 6 | static_cast<std::uint32_t>(value);
    if (++count == 4) {
      bytes.push_back(static_cast<char>(bits >> 16));
      bytes.push_back(static_cast<char>(bits >> 8));
      bytes.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) bytes.push_back(static_cast<char>(bits >> 4));
  if (count == 3) {
    bytes.push_back(static_cast<char>(bits >> 10));
    bytes.push_back(static_cast<char>(bits >> 2));
  }
  return bytes;
}

// Every byte value, and a length that is no multiple of 3 (base64 padding).
std::string every_byte() {
  std::string payload;
  for (int round = 0; round < 4; ++round)
    for (int b = 0; b < 256; ++b)
      payload.push_back(static_cast<char>(b));
  payload.push_back('\x7f');
  return payload;
}

// What write_conversations() sent, as acked.
struct written {
  std::string epoch;
  std::vector<json::object> alice_bob;  // acks of seqs 1..4 (seq 4 is the file)
  json::object alice_carol, alice_alice;
};

class StoreCli : public store_test {
 protected:
  void SetUp() override {
    PARLEY_SKIP_ON_PEER();
    PARLEY_SKIP_ON_POSTGRES("store check and export read parley.db");
    store_test::SetUp();
  }

  std::string db_path() const { return (fs::path(data_dir()) / "parley.db").string(); }

  // alice and bob talk (three texts and a file), alice writes to carol (offline) and twice to
  // herself, bob reads up to 3: three conversations, seven messages, one cursor row.
  written write_conversations() {
    written w;
    json::object welcome;
    auto a = open("alice", &welcome);
    w.epoch = str(welcome, "epoch");
    read_inbox(*a);
    auto b = connect("bob");
    w.alice_bob.push_back(sent(*a, "bob", "hello bob", "t1"));
    w.alice_bob.push_back(sent(*b, "alice", "hi alice", "t2"));
    w.alice_bob.push_back(
        sent(*a, "bob", "quote \" back\\slash caf\xc3\xa9 \xf0\x9f\x90\x88", "t3"));
    a->send_binary(
        file_frame(obj({{"to", "bob"}, {"name", "cat.png"}, {"mime", "image/png"}, {"cid", "f1"}}),
                   every_byte()));
    w.alice_bob.push_back(until(*a, "ack", "f1"));
    w.alice_carol = sent(*a, "carol", "are you there?", "t4");
    w.alice_alice = sent(*a, "alice", "note to self", "t5");
    sent(*a, "alice", "after the read", "t6");
    // A read receipt goes out once bob's cursor is committed.
    b->send_json(obj({{"type", "read"}, {"with", "alice"}, {"seq", 3}}));
    auto receipt = until(*a, "receipt", "");
    EXPECT_EQ(str(receipt, "status"), "read") << to_string(receipt);
    EXPECT_EQ(integer(receipt, "seq"), 3) << to_string(receipt);
    return w;
  }

  // Sends a text message with `cid` and returns its ack.
  json::object sent(ws_client& from, const std::string& to, const std::string& text,
                    const std::string& cid) {
    from.send_json(obj({{"type", "msg"}, {"to", to}, {"text", text}, {"cid", cid}}));
    return until(from, "ack", cid);
  }

  // The next frame of `c` of `type` (with `cid`, unless empty), skipping the others (copies and
  // messages of the conversation); at most 20 frames.
  json::object until(ws_client& c, const std::string& type, const std::string& cid) {
    for (int i = 0; i < 20; ++i) {
      chat_frame f = read_chat(c);
      if (!f.binary && type_of(f.head) == type && (cid.empty() || str(f.head, "cid") == cid)) {
        return f.head;
      }
    }
    ADD_FAILURE() << "no " << type << " " << cid << " within 20 frames";
    return {};
  }

  void stop_server() {
    auto status = server().terminate(std::chrono::seconds(10));
    ASSERT_EQ(status, std::optional<int>(0)) << "the server did not stop cleanly";
  }
};

TEST_F(StoreCli, check_reports_a_sound_store_and_exits_0) {
  auto w = write_conversations();
  stop_server();
  auto r = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "ok: no problem found")) << r.out;
  EXPECT_TRUE(contains(r.out, "store " + fs::absolute(db_path()).string())) << r.out;
  EXPECT_TRUE(contains(r.out, "schema version 2 (newest known: 2), epoch " + w.epoch)) << r.out;
  EXPECT_TRUE(contains(r.out, "3 conversations, 7 messages")) << r.out;
  EXPECT_TRUE(contains(r.out, "1 cursor\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "files: parley.db " + std::to_string(fs::file_size(db_path())) +
                                  " bytes, parley.db-wal"))
      << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(StoreCli, check_and_export_run_beside_the_running_server_which_keeps_writing) {
  auto w = write_conversations();
  auto check = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  EXPECT_TRUE(contains(check.out, "ok: no problem found")) << check.out;
  // The server still commits, and a later export sees what it wrote.
  auto a = open("alice");
  read_inbox(*a);
  auto ack = send_text(*a, "carol", "still here", "late", "stored");
  EXPECT_EQ(integer(ack, "seq"), 2);
  auto r = parley_store({"export", "--with", "carol", "--data-dir", data_dir()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(str(lines[1], "text"), "still here");
  EXPECT_EQ(str(lines[1], "mid"), str(ack, "mid"));
}

TEST_F(StoreCli, export_writes_one_json_line_per_message_in_seq_order_with_the_acked_fields) {
  auto w = write_conversations();
  stop_server();
  auto r = parley_store({"export", "--with", "alice", "--data-dir", data_dir()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto lines = json_lines(r.out);
  // Conversation by conversation, in the order they began; seq order within each.
  ASSERT_EQ(lines.size(), 7u) << r.out;
  const std::vector<std::pair<std::string, std::string>> from_to = {
      {"alice", "bob"}, {"bob", "alice"}, {"alice", "bob"}, {"alice", "bob"}};
  for (std::size_t i = 0; i < 4; ++i) {
    const json::object& line = lines[i];
    EXPECT_EQ(json::serialize(line.at("with")), R"(["alice","bob"])") << to_string(line);
    EXPECT_EQ(integer(line, "seq"), static_cast<std::int64_t>(i + 1)) << to_string(line);
    EXPECT_EQ(str(line, "mid"), str(w.alice_bob[i], "mid")) << to_string(line);
    EXPECT_EQ(integer(line, "ts"), integer(w.alice_bob[i], "ts")) << to_string(line);
    EXPECT_EQ(str(line, "from"), from_to[i].first) << to_string(line);
    EXPECT_EQ(str(line, "to"), from_to[i].second) << to_string(line);
  }
  EXPECT_EQ(str(lines[0], "text"), "hello bob");
  EXPECT_EQ(str(lines[1], "text"), "hi alice");
  EXPECT_EQ(str(lines[2], "text"), "quote \" back\\slash caf\xc3\xa9 \xf0\x9f\x90\x88");
  EXPECT_EQ(json::serialize(lines[4].at("with")), R"(["alice","carol"])");
  EXPECT_EQ(str(lines[4], "text"), "are you there?");
  EXPECT_EQ(str(lines[4], "mid"), str(w.alice_carol, "mid"));
  EXPECT_EQ(json::serialize(lines[5].at("with")), R"(["alice","alice"])");
  EXPECT_EQ(integer(lines[5], "seq"), 1);
  EXPECT_EQ(str(lines[5], "from"), "alice");
  EXPECT_EQ(str(lines[5], "to"), "alice");
  EXPECT_EQ(str(lines[6], "text"), "after the read");
  EXPECT_EQ(integer(lines[6], "seq"), 2);
}

TEST_F(StoreCli, export_of_a_file_round_trips_its_bytes_in_base64) {
  write_conversations();
  stop_server();
  auto r = parley_store({"export", "--with", "bob", "--and", "alice", "--data-dir", data_dir()});
  ASSERT_EQ(r.status, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  const json::object& file = lines[3];
  EXPECT_EQ(integer(file, "seq"), 4) << to_string(file);
  EXPECT_EQ(str(file, "name"), "cat.png");
  EXPECT_EQ(str(file, "mime"), "image/png");
  EXPECT_FALSE(file.contains("text")) << to_string(file);
  const std::string payload = every_byte();
  EXPECT_EQ(integer(file, "size"), static_cast<std::int64_t>(payload.size()));
  EXPECT_TRUE(base64_decode(str(file, "data")) == payload) << "the file's bytes changed";
}

TEST_F(StoreCli, export_and_selects_one_conversation_and_an_id_without_any_prints_nothing) {
  write_conversations();
  stop_server();
  auto carol =
      parley_store({"export", "--with", "alice", "--and", "carol", "--data-dir", data_dir()});
  ASSERT_EQ(carol.status, 0) << carol.err;
  auto lines = json_lines(carol.out);
  ASSERT_EQ(lines.size(), 1u) << carol.out;
  EXPECT_EQ(str(lines[0], "text"), "are you there?");
  auto self =
      parley_store({"export", "--with", "alice", "--and", "alice", "--data-dir", data_dir()});
  EXPECT_EQ(json_lines(self.out).size(), 2u) << self.out;
  auto none = parley_store({"export", "--with", "dave", "--data-dir", data_dir()});
  EXPECT_EQ(none.status, 0) << none.err;
  EXPECT_TRUE(none.out.empty()) << none.out;
  EXPECT_TRUE(contains(none.err, "no conversation of dave")) << none.err;
}

TEST_F(StoreCli, export_refuses_an_id_that_is_not_a_client_id_with_exit_2) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"export", "--with", "a b"},
                                             {"export", "--with", "alice", "--and", "x/y"},
                                             {"export", "--with", std::string(65, 'a')},
                                             {"export"}}) {
    auto with_dir = args;
    with_dir.insert(with_dir.end(), {"--data-dir", data_dir()});
    auto r = parley_store(with_dir);
    EXPECT_EQ(r.status, 2) << args.back() << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    if (args.size() > 1) {
      EXPECT_TRUE(contains(r.err, "is not a client id")) << r.err;
    }
  }
}

TEST_F(StoreCli, check_names_each_broken_invariant_and_exits_1) {
  write_conversations();
  stop_server();
  const std::string pair = "(SELECT id FROM conversations WHERE a = 'alice' AND b = 'bob')";
  const std::string carol = "(SELECT id FROM conversations WHERE a = 'alice' AND b = 'carol')";
  // A middle row gone; seq 4 stored twice; a cursor past the end; a message of no conversation.
  run_sql(db_path(), "DELETE FROM messages WHERE conversation = " + pair + " AND seq = 2");
  run_sql(db_path(),
          "INSERT INTO messages(conversation, seq, from_a, delivered, mid, ts, cid, kind, body) "
          "SELECT conversation, seq, from_a, delivered, mid || '-again', ts, NULL, kind, body "
          "FROM messages WHERE conversation = " +
              pair + " AND seq = 4");
  run_sql(db_path(), "INSERT OR REPLACE INTO cursors VALUES(" + carol + ", 'carol', 5, 0)");
  run_sql(db_path(),
          "INSERT INTO messages(conversation, seq, from_a, delivered, mid, ts, kind, body) "
          "VALUES(999, 1, 1, 0, 'orphan', 1, 0, 'lost')");
  auto r = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "4 problems:")) << r.out;
  EXPECT_TRUE(contains(r.out, "{alice, bob}: seq 2 is missing (between rows")) << r.out;
  EXPECT_TRUE(contains(r.out, "{alice, bob}: seq 4 twice (rows")) << r.out;
  EXPECT_TRUE(contains(r.out,
                       "{alice, carol}: carol's cursor: delivered 5 is past the conversation's "
                       "last seq 1"))
      << r.out;
  EXPECT_TRUE(contains(r.out, ": its conversation 999 does not exist")) << r.out;
  EXPECT_FALSE(contains(r.out, "ok: no problem found")) << r.out;
}

TEST_F(StoreCli, a_prefix_removed_as_retention_does_is_no_problem) {
  write_conversations();
  stop_server();
  // Retention deletes every row before a cut (sqlite_store.cpp apply_retention).
  run_sql(db_path(), "DELETE FROM messages WHERE id < 3");
  auto r = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "retention: first kept seq past 1 in 1 conversation,")) << r.out;
  auto e = parley_store({"export", "--with", "bob", "--data-dir", data_dir()});
  auto lines = json_lines(e.out);
  ASSERT_EQ(lines.size(), 2u) << e.out;
  EXPECT_EQ(integer(lines[0], "seq"), 3);
}

TEST_F(StoreCli, check_refuses_a_schema_this_parley_does_not_know) {
  write_conversations();
  stop_server();
  run_sql(db_path(), "INSERT INTO schema_migrations VALUES(99, 0)");
  auto r = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "schema version 99 is not one this Parley knows (1 to 2)")) << r.out;
}

TEST_F(StoreCli, check_names_what_sqlites_integrity_check_finds_in_a_damaged_file) {
  write_conversations();
  stop_server();
  run_sql(db_path(), "PRAGMA wal_checkpoint(TRUNCATE)");  // every page in parley.db itself
  std::int64_t page_size = sql_integer(db_path(), "PRAGMA page_size");
  std::int64_t root =
      sql_integer(db_path(), "SELECT rootpage FROM sqlite_schema WHERE name = 'conversations'");
  ASSERT_GT(page_size, 0);
  ASSERT_GT(root, 1);
  {
    // The conversations' (leaf) page claims 9 cells: bytes 3-4 of its header.
    std::fstream f(db_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((root - 1) * page_size + 3);
    f.write("\x00\x09", 2);
    ASSERT_TRUE(f.good());
  }
  auto r = parley_store({"check", "--data-dir", data_dir()});
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "integrity_check: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "tables not read")) << r.out;
}

TEST_F(StoreCli, check_and_export_leave_the_database_file_as_it_was) {
  write_conversations();
  stop_server();
  const std::string before = file_bytes(db_path());
  EXPECT_EQ(parley_store({"check", "--data-dir", data_dir()}).status, 0);
  EXPECT_EQ(parley_store({"export", "--with", "alice", "--data-dir", data_dir()}).status, 0);
  EXPECT_TRUE(file_bytes(db_path()) == before) << "a read-only command changed parley.db";
}

TEST_F(StoreCli, a_missing_store_exits_1_and_nothing_is_made) {
  temp_dir empty;
  const std::string missing = (fs::path(empty.path()) / "nope").string();
  for (const std::string command : {"check", "export"}) {
    std::vector<std::string> args{command, "--data-dir", missing};
    if (command == "export") args.insert(args.end(), {"--with", "alice"});
    auto r = parley_store(args);
    EXPECT_EQ(r.status, 1) << command << ": " << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "no store in " + missing + ": the folder does not exist")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(missing)) << command << " made the data dir";

    args[2] = empty.path();  // a folder without parley.db
    r = parley_store(args);
    EXPECT_EQ(r.status, 1) << command << ": " << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "parley.db does not exist")) << r.err;
    EXPECT_TRUE(fs::is_empty(empty.path())) << command << " made a file in the data dir";
  }
}

TEST_F(StoreCli, help_says_both_are_safe_beside_a_running_server) {
  auto check = parley_store({"check", "--help"});
  EXPECT_EQ(check.status, 0) << check.err;
  EXPECT_TRUE(contains(check.out, "a reader does not block the writer")) << check.out;
  EXPECT_TRUE(contains(check.out, "--data-dir")) << check.out;
  auto e = parley_store({"export", "--help"});
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_TRUE(contains(e.out, "base64")) << e.out;
  EXPECT_TRUE(contains(e.out, "a reader does not block the writer")) << e.out;
  EXPECT_EQ(parley_store({}).status, 2) << "store without a subcommand is bad usage";
}

}  // namespace
}  // namespace parley::it
