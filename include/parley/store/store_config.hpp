#pragma once
#include <cstddef>
#include <string>

namespace parley::store {

// Which store keeps conversations (protocol-v2 "Stores").
enum class store_kind { none, sqlite, postgres };

// The settings of the durable store, each with the contract's default and the reason for it.
struct store_config {
  // sqlite: the default, durable single-node store. postgres: one database shared by the nodes
  // of a cluster. none: version 1 exactly, nothing kept.
  store_kind kind = store_kind::sqlite;
  std::string data_dir = "data";  // holds parley.db; made when missing
  // The postgres store's database, as libpq takes it (postgresql://user@host:port/db or
  // "host=... dbname=..."). Empty: libpq's own defaults and PG* environment variables.
  std::string postgres_url;
  // Connections to PostgreSQL, each with a store thread of its own doing group commits. Two:
  // one commits while the other gathers the next batch, and PostgreSQL merges their WAL
  // flushes; more only add backends (about 10 MB each) once the flush is the bottleneck.
  std::size_t postgres_pool = 2;
  // Days a message stays in history; 0 keeps everything (the contract's default).
  double retention_days = 0;
  // A (sender, cid) seen within this many seconds is a retry: acked again, not stored again.
  // A day covers a client that retries after a night offline.
  double dedup_seconds = 86400;
  // Undelivered messages one id may hold; past it senders get inbox_full, so an abandoned id
  // cannot fill the disk.
  std::size_t max_inbox_messages = 10000;
  // Stored messages pushed to a new connection before `inbox`; the rest come by `history`, so
  // a connection after a long absence starts without a flood.
  std::size_t inbox_push_max = 1000;
  // Remembered (sender, cid) pairs at most, the oldest forgotten first: bounds the dedup
  // index's memory (up to about 90 bytes each) when a day holds more messages than that.
  std::size_t max_dedup_entries = 1'000'000;

  bool enabled() const { return kind != store_kind::none; }
};

}  // namespace parley::store
