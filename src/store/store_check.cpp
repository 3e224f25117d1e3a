// `parley store check`: SQLite's integrity check, then the invariants the store keeps
// (shared/protocol-v2.md "Conversations and sequence numbers", schema.cpp's tables).
#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include "parley/protocol/client_id.hpp"
#include "parley/store/store_tools.hpp"
#include "read_only_open.hpp"
#include "schema.hpp"

namespace parley::store {

namespace {

// What the messages' scan keeps of one conversation: a few dozen bytes, whatever its length.
struct conversation_state {
  std::string a, b;
  std::int64_t first_seq = 0;  // the first kept; 0 while none is seen
  std::int64_t last_seq = 0;
  std::int64_t last_row = 0;       // the row of last_seq
  std::int64_t recorded_last = 0;  // conversations.last_seq: what retention wrote down
  // The conversation's last seq: its newest message's, or what retention wrote down.
  std::int64_t last() const { return std::max(last_seq, recorded_last); }
};

class checker {
 public:
  checker(const std::string& data_dir, check_report& report) : store_(data_dir), report_(report) {}

  // Every SQLite error once the file is open is a problem of the file: named, and the end of
  // the check.
  void run() {
    try {
      // Parley's invariants are read from the tables: in a damaged file they would only add noise.
      if (!integrity() || !schema()) return;
      conversations();
      messages();
      cursors();
      report_.tables_read = true;
    } catch (const sqlite_error& e) {
      problem(std::string("reading the file failed: ") + e.what());
    }
  }

 private:
  void problem(std::string text) {
    ++report_.problems_total;
    if (report_.problems.size() < check_report::max_listed_problems) {
      report_.problems.push_back(std::move(text));
    }
  }
  std::string name(std::int64_t id) const {
    auto it = conversations_.find(id);
    if (it == conversations_.end()) return "conversation " + std::to_string(id);
    return "conversation " + std::to_string(id) + " {" + it->second.a + ", " + it->second.b + "}";
  }

  // SQLite's own check of the file: pages, b-trees, indexes, NOT NULL and UNIQUE constraints.
  // Returns whether it found the file sound.
  bool integrity() {
    std::int64_t before = report_.problems_total;
    statement q(store_.handle(), "PRAGMA integrity_check(100)");
    while (q.step()) {
      std::string_view text = q.text(0);
      if (text == "ok") continue;
      // One row may hold several lines ("*** in database main ***\nOn tree page 5 ...").
      for (std::size_t at = 0; at < text.size();) {
        std::size_t end = std::min(text.find('\n', at), text.size());
        if (end > at) problem("integrity_check: " + std::string(text.substr(at, end - at)));
        at = end + 1;
      }
    }
    return report_.problems_total == before;
  }

  // Returns whether the schema is one this Parley knows, so that its tables can be read.
  bool schema() {
    statement tables(store_.handle(),
                     "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                     "'schema_migrations'");
    tables.step();
    bool has_migrations = tables.integer(0) != 0;
    tables.reset();
    if (!has_migrations) {
      problem("no schema_migrations table: not a Parley store");
      return false;
    }
    statement versions(store_.handle(),
                       "SELECT coalesce(max(version), 0), count(*) FROM schema_migrations");
    versions.step();
    report_.schema_version = versions.integer(0);
    std::int64_t applied = versions.integer(1);
    versions.reset();
    if (report_.schema_version < 1 || report_.schema_version > report_.newest_schema_version) {
      problem("schema version " + std::to_string(report_.schema_version) +
              " is not one this Parley knows (1 to " +
              std::to_string(report_.newest_schema_version) + ")");
      return false;
    }
    if (applied != report_.schema_version) {
      problem("schema_migrations records " + std::to_string(applied) + " migrations for version " +
              std::to_string(report_.schema_version));
    }
    statement epoch(store_.handle(), "SELECT value FROM meta WHERE key = 'epoch'");
    if (epoch.step()) {
      report_.epoch = epoch.text(0);
      epoch.reset();
    }
    if (report_.epoch.empty()) problem("meta has no epoch");
    return true;
  }

  void conversations() {
    // Version 1 had no last_seq column.
    statement q(store_.handle(), report_.schema_version >= 2
                                     ? "SELECT id, a, b, last_seq FROM conversations ORDER BY id"
                                     : "SELECT id, a, b, 0 FROM conversations ORDER BY id");
    while (q.step()) {
      std::int64_t id = q.integer(0);
      conversation_state& c = conversations_[id];
      c.a = q.text(1);
      c.b = q.text(2);
      c.recorded_last = q.integer(3);
      ++report_.conversations;
      for (const std::string* who : {&c.a, &c.b}) {
        if (!protocol::is_valid_client_id(*who)) {
          problem(name(id) + ": \"" + *who + "\" is not a client id");
        }
      }
      if (c.b < c.a) problem(name(id) + ": its ids are not in order (a <= b)");
    }
  }

  // One pass in commit order (the row id): each conversation's next row must hold the next seq.
  void messages() {
    statement q(store_.handle(),
                "SELECT id, conversation, seq, ts, kind, from_a FROM messages ORDER BY id");
    while (q.step()) {
      std::int64_t row = q.integer(0), in = q.integer(1), seq = q.integer(2), ts = q.integer(3);
      ++report_.messages;
      if (report_.oldest_ts == 0 || ts < report_.oldest_ts) report_.oldest_ts = ts;
      report_.newest_ts = std::max(report_.newest_ts, ts);
      std::string at = "message row " + std::to_string(row);
      if (q.integer(4) != 0 && q.integer(4) != 1) problem(at + ": kind is neither text nor file");
      if (q.integer(5) != 0 && q.integer(5) != 1) problem(at + ": from_a is neither 0 nor 1");
      auto it = conversations_.find(in);
      if (it == conversations_.end()) {
        problem(at + ": its conversation " + std::to_string(in) + " does not exist");
        continue;
      }
      next_seq(it->first, it->second, row, seq);
    }
    for (const auto& [id, c] : conversations_) {
      if (c.first_seq > 1) ++report_.trimmed_conversations;
      if (c.first_seq == 0) ++report_.empty_conversations;
    }
  }

  void next_seq(std::int64_t id, conversation_state& c, std::int64_t row, std::int64_t seq) {
    std::string where = " (row " + std::to_string(row) + ")";
    if (seq < 1) {
      problem(name(id) + ": seq " + std::to_string(seq) + where + " is not 1 or more");
      return;
    }
    if (c.first_seq == 0) {
      c.first_seq = seq;  // any seq may come first: retention removes the oldest rows
    } else if (seq == c.last_seq) {
      problem(name(id) + ": seq " + std::to_string(seq) + " twice (rows " +
              std::to_string(c.last_row) + " and " + std::to_string(row) + ")");
      return;
    } else if (seq < c.last_seq) {
      problem(name(id) + ": seq " + std::to_string(seq) + where + " after seq " +
              std::to_string(c.last_seq) + " (row " + std::to_string(c.last_row) +
              "): duplicated or out of commit order");
      return;
    } else if (seq > c.last_seq + 1) {
      std::string missing = seq == c.last_seq + 2
                                ? "seq " + std::to_string(c.last_seq + 1) + " is missing"
                                : "seqs " + std::to_string(c.last_seq + 1) + " to " +
                                      std::to_string(seq - 1) + " are missing";
      problem(name(id) + ": " + missing + " (between rows " + std::to_string(c.last_row) + " and " +
              std::to_string(row) + ")");
    }
    c.last_seq = seq;
    c.last_row = row;
  }

  void cursors() {
    statement q(store_.handle(),
                "SELECT conversation, participant, delivered, read FROM cursors ORDER BY "
                "conversation, participant");
    while (q.step()) {
      ++report_.cursors;
      std::int64_t in = q.integer(0), delivered = q.integer(2), read = q.integer(3);
      std::string who(q.text(1));
      auto it = conversations_.find(in);
      if (it == conversations_.end()) {
        problem("cursor of " + who + " in conversation " + std::to_string(in) +
                ": the conversation does not exist");
        continue;
      }
      const conversation_state& c = it->second;
      std::string at = name(in) + ": " + who + "'s cursor";
      if (who != c.a && who != c.b) problem(at + ": " + who + " is not a participant");
      if (read > delivered) {
        problem(at + ": read " + std::to_string(read) + " is past delivered " +
                std::to_string(delivered));
      }
      if (delivered > c.last()) {
        problem(at + ": delivered " + std::to_string(delivered) +
                " is past the conversation's last seq " + std::to_string(c.last()));
      } else if (read > c.last()) {
        problem(at + ": read " + std::to_string(read) + " is past the conversation's last seq " +
                std::to_string(c.last()));
      }
      if (delivered < 0 || read < 0) problem(at + ": a negative seq");
    }
  }

  read_only_store store_;
  check_report& report_;
  std::unordered_map<std::int64_t, conversation_state> conversations_;
};

// Measured before the check opens the file: a reader of a file no server has open leaves an
// empty WAL behind, which is not what the server left.
void measure_files(check_report& report) {
  std::error_code ec;
  report.db_bytes = std::filesystem::file_size(report.path, ec);
  auto wal = std::filesystem::file_size(report.path + "-wal", ec);
  if (!ec) report.wal_bytes = wal;
}

}  // namespace

check_report check_store(const std::string& data_dir) {
  check_report report;
  report.newest_schema_version = newest_schema_version();
  report.path = std::filesystem::absolute(existing_store_file(data_dir)).string();
  measure_files(report);
  checker(data_dir, report).run();
  return report;
}

}  // namespace parley::store
