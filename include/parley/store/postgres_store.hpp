#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parley/core/router.hpp"
#include "parley/store/durable_store.hpp"

namespace parley::store {

// The store a cluster shares (protocol-v2 "Stores"): one PostgreSQL database that every node
// writes at once, so its truth lives there and nowhere in memory. A conversation's seqs are
// assigned inside the transaction that stores its message (its row locked and bumped), so
// nodes serialize per conversation and an aborted transaction leaves no gap; dedup, cursors
// and inboxes are tables. `postgres_pool` connections each have a store thread of its own,
// which gathers requests while its previous commit runs and sends the next batch as one
// pipelined transaction (group commit); a connection's requests all go to the same thread,
// so they are answered in order. Delivery after commit goes through the router (clustered or
// not), as with SQLite. Every public method is thread-safe.
class postgres_store final : public durable_store {
 public:
  // Connects every pool connection, migrates and reads the epoch. Throws std::runtime_error
  // with a one-line reason when the database cannot be reached or used.
  postgres_store(const store_config& config, core::router& router);
  // Answers what is queued, then stops the threads.
  ~postgres_store() override;

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
  // Transactions committed: each one WAL flush (fsync) on the database server.
  std::uint64_t syncs() const override;

  class worker;  // one pool connection and its thread; in postgres_worker.hpp

 private:
  worker& worker_for(const core::store_client& c);

  store_stats stats_;
  std::string epoch_;
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace parley::store
