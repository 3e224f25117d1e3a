#include "schema.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "parley/core/clock.hpp"

namespace parley::store {

namespace {

// Each migration, in order; version N is migrations[N - 1]. Never edit a released one: add.
// messages has no secondary index: its rows are appended in commit order (the id), and the
// store finds a conversation's rows through its in-memory index (conversation_index).
constexpr std::array<std::string_view, 2> migrations = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE conversations(
  id INTEGER PRIMARY KEY,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  UNIQUE(a, b));
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  conversation INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  from_a INTEGER NOT NULL,
  delivered INTEGER NOT NULL,
  mid TEXT NOT NULL,
  ts INTEGER NOT NULL,
  cid TEXT,
  kind INTEGER NOT NULL,
  body BLOB NOT NULL,
  name TEXT,
  mime TEXT);
CREATE TABLE cursors(
  conversation INTEGER NOT NULL,
  participant TEXT NOT NULL,
  delivered INTEGER NOT NULL,
  read INTEGER NOT NULL,
  PRIMARY KEY(conversation, participant)) WITHOUT ROWID;
)sql",
    // 2: a conversation's last seq, written when retention removes its messages, so that a restart
    // after every message of a conversation expired goes on from it instead of from seq 1.
    R"sql(
ALTER TABLE conversations ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
)sql"};

}  // namespace

std::string random_epoch() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("no randomness for the store's epoch");
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string epoch;
  for (unsigned char b : bytes) {
    epoch.push_back(hex[b >> 4]);
    epoch.push_back(hex[b & 15]);
  }
  return epoch;
}

namespace {

std::int64_t current_version(database& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, "
      "applied_ms INTEGER NOT NULL)");
  statement q(db.handle(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
  q.step();
  std::int64_t version = q.integer(0);
  q.reset();
  return version;
}

}  // namespace

std::int64_t newest_schema_version() {
  return static_cast<std::int64_t>(migrations.size());
}

std::string migrate(database& db) {
  std::int64_t version = current_version(db);
  constexpr auto newest = static_cast<std::int64_t>(migrations.size());
  if (version > newest) {
    throw std::runtime_error("the database has schema version " + std::to_string(version) +
                             ", newer than this Parley knows (" + std::to_string(newest) + ")");
  }
  for (; version < newest; ++version) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(migrations[static_cast<std::size_t>(version)]);
      statement record(db.handle(), "INSERT INTO schema_migrations VALUES(?, ?)");
      record.bind(1, version + 1).bind(2, core::unix_millis()).run();
      if (version == 0) {
        std::string made = random_epoch();
        statement epoch(db.handle(), "INSERT INTO meta VALUES('epoch', ?)");
        epoch.bind(1, std::string_view(made)).run();
      }
      db.exec("COMMIT");
    } catch (...) {
      db.exec("ROLLBACK");
      throw;
    }
  }
  statement epoch(db.handle(), "SELECT value FROM meta WHERE key = 'epoch'");
  if (!epoch.step()) throw std::runtime_error("the database has no epoch");
  std::string value(epoch.text(0));
  epoch.reset();
  return value;
}

}  // namespace parley::store
