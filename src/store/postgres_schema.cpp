#include "postgres_schema.hpp"

#include <array>
#include <string_view>

#include "parley/core/clock.hpp"
#include "schema.hpp"

namespace parley::store {

namespace {

// Each migration, in order; version N is migrations[N - 1]. Never edit a released one: add.
// The truth lives here, not in a node's memory: several nodes write at once.
//  conversations: last_seq is the seq counter, bumped (row-locked) by each message's insert,
//    so nodes serialize per conversation and a rolled-back insert leaves no gap.
//  messages: keyed by (conversation, seq); id is the commit-ish order inboxes and the
//    conversation list sort by.
//  pending: what waits for a recipient (its inbox), removed as its delivered cursor passes.
//  dedup: (sender, cid) -> the message, with its time; a retry within the window is a duplicate.
// No foreign keys: only the store writes these tables, always together in one transaction, and
// their checks cost a third of a batch's time.
constexpr std::array<std::string_view, 1> migrations = {
    R"sql(
CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE conversations(
  id bigserial PRIMARY KEY,
  a text NOT NULL,
  b text NOT NULL,
  last_seq bigint NOT NULL,
  UNIQUE(a, b));
CREATE INDEX conversations_b ON conversations(b);
CREATE TABLE messages(
  id bigserial PRIMARY KEY,
  conversation bigint NOT NULL,
  seq bigint NOT NULL,
  from_a boolean NOT NULL,
  mid text NOT NULL,
  ts bigint NOT NULL,
  cid text,
  kind smallint NOT NULL,
  body bytea NOT NULL,
  name text,
  mime text,
  UNIQUE(conversation, seq));
CREATE INDEX messages_ts ON messages(ts);
CREATE TABLE cursors(
  conversation bigint NOT NULL,
  participant text NOT NULL,
  delivered bigint NOT NULL,
  read bigint NOT NULL,
  PRIMARY KEY(conversation, participant));
CREATE TABLE pending(
  recipient text NOT NULL,
  message bigint NOT NULL,
  conversation bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY(recipient, message));
CREATE TABLE dedup(
  sender text NOT NULL,
  cid text NOT NULL,
  ts bigint NOT NULL,
  conversation bigint NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY(sender, cid));
CREATE INDEX dedup_ts ON dedup(ts);
)sql"};

// The advisory lock key nodes migrate under ("parley" in ASCII).
constexpr std::string_view migration_lock = "SELECT pg_advisory_xact_lock(112971164157797)";

std::int64_t current_version(pg_connection& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations(version bigint PRIMARY KEY, "
      "applied_ms bigint NOT NULL)");
  pg_params none;
  db.prepare("parley_schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations");
  return db.run("parley_schema_version", none).integer(0, 0);
}

void apply(pg_connection& db, std::int64_t version) {
  db.exec(std::string(migrations[static_cast<std::size_t>(version)]));
  db.exec("INSERT INTO schema_migrations VALUES(" + std::to_string(version + 1) + ", " +
          std::to_string(core::unix_millis()) + ")");
  if (version == 0) db.exec("INSERT INTO meta VALUES('epoch', '" + random_epoch() + "')");
}

}  // namespace

std::string migrate_postgres(pg_connection& db) {
  constexpr auto newest = static_cast<std::int64_t>(migrations.size());
  db.exec("BEGIN");
  try {
    db.exec(std::string(migration_lock));  // held to COMMIT: one node migrates, the others wait
    std::int64_t version = current_version(db);
    if (version > newest) {
      throw std::runtime_error("the database has schema version " + std::to_string(version) +
                               ", newer than this Parley knows (" + std::to_string(newest) + ")");
    }
    for (; version < newest; ++version)
      apply(db, version);
    db.exec("COMMIT");
  } catch (...) {
    if (db.ok()) db.exec("ROLLBACK");
    throw;
  }
  pg_params none;
  db.prepare("parley_epoch", "SELECT value FROM meta WHERE key = 'epoch'");
  pg_result epoch = db.run("parley_epoch", none);
  if (epoch.rows() != 1) throw std::runtime_error("the database has no epoch");
  return std::string(epoch.text(0, 0));
}

}  // namespace parley::store
