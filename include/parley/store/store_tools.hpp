#pragma once
// The operator's tools over a SQLite store's file (`parley store check`, `parley store export`):
// they open <data-dir>/parley.db read-only, never create it, and read it in one transaction, so
// they see one consistent state while a server keeps writing (in WAL mode readers do not block
// the writer, nor the writer them). Implemented in store_check.cpp and store_export.cpp.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley::store {

// The store's file cannot be read: missing, not a database, locked past the wait. Its what()
// names the file and says why.
class unreadable_store : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// <data_dir>/parley.db, the path the store and the tools use.
std::string store_file_path(const std::string& data_dir);

// What `parley store check` found.
struct check_report {
  std::string path;  // the database file, absolute
  std::int64_t schema_version = 0;
  std::int64_t newest_schema_version = 0;  // the newest this Parley knows
  std::string epoch;
  // Whether the tables were read: not when SQLite's integrity check failed, nor with an unknown
  // schema. The counts below are 0 then.
  bool tables_read = false;
  std::int64_t conversations = 0;
  std::int64_t messages = 0;
  std::int64_t cursors = 0;
  std::int64_t oldest_ts = 0, newest_ts = 0;  // of the messages kept (0 when none)
  std::int64_t trimmed_conversations = 0;     // whose first kept seq is past 1 (retention)
  std::int64_t empty_conversations = 0;       // with no message kept
  std::uintmax_t db_bytes = 0;
  std::optional<std::uintmax_t> wal_bytes;  // nullopt: no WAL file
  // Each problem in one line, at most max_listed_problems; problems_total counts them all.
  std::vector<std::string> problems;
  std::int64_t problems_total = 0;
  bool ok() const { return problems_total == 0; }

  static constexpr std::size_t max_listed_problems = 100;
};

// Checks the store in `data_dir`: SQLite's integrity_check, then Parley's invariants: a known
// schema version and an epoch; each conversation a valid pair of ids; each message in an
// existing conversation, its seqs 1, 2, 3, ... in commit order with no gap and no duplicate
// (from the first one kept: retention removes the oldest); each cursor of a participant of an
// existing conversation, read <= delivered <= the conversation's last seq. Memory: a few dozen
// bytes per conversation, whatever the number of messages. Throws unreadable_store.
check_report check_store(const std::string& data_dir);

// Which conversations export_conversations writes: every one of `id`, or only {id, other}.
struct export_filter {
  std::string id;
  std::optional<std::string> other;
};

// What export_conversations wrote.
struct export_summary {
  std::int64_t conversations = 0;
  std::int64_t messages = 0;
};

// Writes the messages of the conversations `filter` selects to `out` as JSON lines, one
// message a line, conversation by conversation (in the order they began), each in seq order:
//   {"with":["a","b"],"seq":1,"mid":"…","ts":…,"from":"a","to":"b","text":"…"}
// and for a file "name" and "mime" (when it had them), "size" (bytes) and "data" (the bytes in
// base64, RFC 4648) instead of "text". Memory: 24 bytes per exported message besides the one
// being written. Throws unreadable_store.
export_summary export_conversations(const std::string& data_dir, const export_filter& filter,
                                    std::ostream& out);

}  // namespace parley::store
