#pragma once
#include <chrono>
#include <cstdint>
#include <memory>

#include "parley/core/message_store.hpp"
#include "parley/core/router.hpp"
#include "parley/store/store_config.hpp"
#include "parley/store/store_stats.hpp"

namespace parley::store {

// A store that keeps conversations (protocol-v2 "Stores"), as the server holds it: SQLite's
// (one node) or PostgreSQL's (shared by the nodes of a cluster). Every method is thread-safe.
class durable_store : public core::message_store {
 public:
  // Waits until every request queued before the call is answered, or `limit` passes: the
  // shutdown's drain, so acks go out before the connections close.
  virtual void flush(std::chrono::milliseconds limit) = 0;
  virtual const store_stats& stats() const = 0;
  // The durable writes the store waited for: SQLite's fsync/fdatasync calls, PostgreSQL's
  // commits (each one WAL flush on the server).
  virtual std::uint64_t syncs() const = 0;
};

// Opens the store `config.kind` names (not none), delivering through `router`. Throws
// std::runtime_error with a one-line reason when it cannot (a file it cannot open, a database
// it cannot reach).
std::unique_ptr<durable_store> open_store(const store_config& config, core::router& router);

}  // namespace parley::store
