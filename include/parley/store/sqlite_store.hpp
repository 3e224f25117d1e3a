#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "parley/core/router.hpp"
#include "parley/store/durable_store.hpp"

namespace parley::store {

// The default store (protocol-v2 "Stores"): one SQLite file, <data-dir>/parley.db, WAL journal,
// synchronous=FULL. One thread of its own does all of its work, in the order requests arrive:
// messages are staged, then committed in one transaction with everything that arrived while
// the previous commit was syncing (group commit: one fsync for many messages), and only then
// handed over and acked. Its hot path only appends rows; the conversations' seq index, the
// cursors and the dedup window are kept in memory and rebuilt from the file at start.
// Every public method is thread-safe.
class sqlite_store final : public durable_store {
 public:
  // Opens (creating) the database, applies its migrations, loads the index and starts the
  // store's thread. Throws std::runtime_error naming the file when it cannot.
  sqlite_store(const store_config& config, core::router& router);
  // Answers what is queued, then stops the thread.
  ~sqlite_store() override;

  std::string_view epoch() const override;
  core::store_health health() const override;
  void send(core::store_client from, core::outgoing_message message) override;
  void push_inbox(core::store_client to) override;
  void read(core::store_client reader, std::string with, std::int64_t seq,
            std::optional<std::string> cid) override;
  void history(core::store_client asker, core::history_query query) override;
  void conversations(core::store_client asker, core::conversations_query query) override;

  void flush(std::chrono::milliseconds limit) override;
  const store_stats& stats() const override;
  // fsync/fdatasync calls the database made (counted in SQLite's VFS).
  std::uint64_t syncs() const override;

  class engine;  // the store's thread and everything it owns; in sqlite_store.cpp

 private:
  std::unique_ptr<engine> engine_;
};

}  // namespace parley::store
