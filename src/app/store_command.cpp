#include "parley/app/store_command.hpp"

#include <CLI/CLI.hpp>
#include <ctime>
#include <ostream>
#include <string_view>

#include "parley/protocol/client_id.hpp"
#include "parley/store/store_tools.hpp"

namespace parley::app {

namespace {

constexpr int exit_problem = 1;

constexpr const char* check_footer =
    "Opens <data-dir>/parley.db read-only (never creating it) and runs SQLite's\n"
    "integrity_check and Parley's own checks: a known schema version and an epoch; each\n"
    "conversation's seqs 1, 2, 3, ... in commit order, without gap or duplicate (from its\n"
    "oldest kept message: retention removes the oldest); each message in an existing\n"
    "conversation; each cursor of a participant, read <= delivered <= the last seq.\n"
    "Prints the counts, the schema version, the epoch and the files' sizes, then each problem.\n"
    "\n"
    "Safe while a server uses the file: in WAL mode a reader does not block the writer, and\n"
    "the check reads one consistent state (while it reads, the WAL cannot be checkpointed\n"
    "past that state and may grow).\n"
    "\n"
    "Exit status: 0 no problem; 1 problems (each named), or no store to read; 2 bad usage.";

constexpr const char* export_footer =
    "Prints the messages on stdout as JSON lines, one message a line, conversation by\n"
    "conversation (in the order they began), each in seq order:\n"
    "  {\"with\":[\"a\",\"b\"],\"seq\":1,\"mid\":\"...\",\"ts\":1767225600000,"
    "\"from\":\"a\",\"to\":\"b\",\"text\":\"hi\"}\n"
    "A file has, instead of \"text\": \"name\" and \"mime\" (when it had them), \"size\" (its\n"
    "bytes) and \"data\" (the bytes in base64). ts: milliseconds since 1970 (UTC).\n"
    "\n"
    "Opens <data-dir>/parley.db read-only (never creating it); safe while a server uses the\n"
    "file: in WAL mode a reader does not block the writer.\n"
    "\n"
    "Exit status: 0 printed (also when there was no such conversation: said on stderr);\n"
    "1 no store to read, or stdout failed; 2 bad usage (an id that is not a client id).";

constexpr const char* store_footer =
    "Both read <data-dir>/parley.db and never write it: safe while a server runs on it.\n"
    "Exit status: 0 done; 1 a problem found, or no store to read; 2 bad usage.";

CLI::Validator client_id_check() {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        if (protocol::is_valid_client_id(id)) return {};
        return "\"" + id + "\" is not a client id: 1 to " +
               std::to_string(protocol::max_client_id_bytes) + " characters of A-Z a-z 0-9 _ . -";
      },
      "ID");
}

void add_data_dir(CLI::App& command, std::string& data_dir) {
  command.add_option("--data-dir", data_dir, "folder of the sqlite store (holds parley.db)")
      ->envname("PARLEY_DATA_DIR")
      ->capture_default_str();
}

// A store time (milliseconds since 1970) as ISO 8601 in UTC, to the second.
std::string utc(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

// "1 message", "2 messages".
std::string count(std::int64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

void print(const store::check_report& r, std::ostream& out) {
  out << "store " << r.path << "\n";
  out << "schema version " << r.schema_version << " (newest known: " << r.newest_schema_version
      << "), epoch " << (r.epoch.empty() ? "(none)" : r.epoch) << "\n";
  if (!r.tables_read) {
    out << "tables not read: the file or its schema is not one Parley can check\n";
  } else {
    out << count(r.conversations, "conversation") << ", " << count(r.messages, "message");
    if (r.messages > 0) out << " (" << utc(r.oldest_ts) << " to " << utc(r.newest_ts) << ")";
    out << ", " << count(r.cursors, "cursor") << "\n";
  }
  if (r.trimmed_conversations > 0 || r.empty_conversations > 0) {
    out << "retention: first kept seq past 1 in " << count(r.trimmed_conversations, "conversation")
        << ", no message kept in " << r.empty_conversations << "\n";
  }
  out << "files: parley.db " << r.db_bytes << " bytes, parley.db-wal ";
  if (r.wal_bytes) {
    out << *r.wal_bytes << " bytes\n";
  } else {
    out << "absent\n";
  }
  if (r.ok()) {
    out << "ok: no problem found\n";
    return;
  }
  out << count(r.problems_total, "problem") << ":\n";
  for (const std::string& p : r.problems)
    out << "  " << p << "\n";
  auto listed = static_cast<std::int64_t>(r.problems.size());
  if (r.problems_total > listed) out << "  (and " << r.problems_total - listed << " more)\n";
}

}  // namespace

CLI::App* store_command::register_on(CLI::App& cli, std::string& data_dir) {
  auto* store = cli.add_subcommand(
      "store", "the store's operator commands: check the file, export conversations");
  store->require_subcommand(1);
  store->footer(store_footer);
  check_ = store->add_subcommand(
      "check", "check <data-dir>/parley.db: SQLite's integrity and Parley's invariants");
  check_->footer(check_footer);
  add_data_dir(*check_, data_dir);
  export_ = store->add_subcommand(
      "export", "print the conversations of an id as JSON lines, one message a line");
  export_->footer(export_footer);
  export_->add_option("--with", with, "the id whose conversations are exported")
      ->required()
      ->check(client_id_check());
  export_->add_option("--and", and_id, "only the conversation of --with with this id")
      ->check(client_id_check());
  add_data_dir(*export_, data_dir);
  return store;
}

int store_command::run(const std::string& data_dir, std::ostream& out, std::ostream& err) const {
  try {
    if (*check_) {
      store::check_report report = store::check_store(data_dir);
      print(report, out);
      return report.ok() ? 0 : exit_problem;
    }
    store::export_filter filter{with, {}};
    if (!and_id.empty()) filter.other = and_id;
    store::export_summary done = store::export_conversations(data_dir, filter, out);
    out.flush();
    if (!out) {
      err << "parley store export: cannot write to stdout\n";
      return exit_problem;
    }
    if (done.conversations == 0) {
      err << "parley store export: no conversation of " << with
          << (and_id.empty() ? "" : " with " + and_id) << " in " << store::store_file_path(data_dir)
          << "\n";
    }
    return 0;
  } catch (const store::unreadable_store& e) {
    err << "parley store " << (*check_ ? "check" : "export") << ": " << e.what() << "\n";
    return exit_problem;
  }
}

}  // namespace parley::app
