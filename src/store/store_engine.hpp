#pragma once
// Private to src/store: the SQLite store's engine, the thread behind sqlite_store and all it
// owns. Its work is split by concern: store_engine.cpp (the queue, the thread and the group
// commit), store_sending.cpp (dedup, staging, hand-over and acks), store_reading.cpp (the
// inbox, read cursors, history, conversations) and store_upkeep.cpp (loading the index at
// start, retention, health). Only the store's thread touches the engine's members, except
// queue_, those under health_mutex_ and the atomic stats_.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "conversation_index.hpp"
#include "data_dir_lock.hpp"
#include "dedup_index.hpp"
#include "parley/store/sqlite_store.hpp"
#include "request_queue.hpp"
#include "sqlite_db.hpp"

namespace parley::store {

class sqlite_store::engine {
 public:
  engine(const store_config& config, core::router& router);
  ~engine();

  void submit(request r) { queue_.submit(std::move(r)); }
  void flush(std::chrono::milliseconds limit) { queue_.flush(limit); }
  core::store_health health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
  }

  const std::string& epoch() const { return epoch_; }
  store_stats stats_;

 private:
  // A message staged for the next commit.
  struct staged {
    store_client from;
    core::outgoing_message message;
    conversation* in;
    std::int64_t seq;
    core::message_id mid;
    std::int64_t ts;
    std::uint64_t dedup_key;
    bool recipient_online;
    std::int64_t rowid = 0;
  };
  // What runs after the commit, in staging order: a message's hand-over and ack, or an answer
  // that waited for the commit (ok: the commit succeeded).
  using step = std::variant<std::size_t /* index into staged_ */, std::function<void(bool ok)>>;
  struct cursor_write {
    conversation* in;
    std::string participant;
  };

  void run();
  void handle(request& r);
  void handle(send_request& r);
  void handle(inbox_request& r);
  void handle(read_request& r);
  void handle(history_request& r);
  void handle(conversations_request& r);
  void after_commit(std::function<void(bool ok)> then) { steps_.emplace_back(std::move(then)); }
  void done(const store_client& c, protocol::shared_frame last = nullptr) {
    c.self->store_done(std::move(last));
  }

  void prefetch_dedup(std::vector<request>& taken);
  void stage(send_request& r, std::int64_t now_ms);
  void answer_duplicate(const store_client& c, std::int64_t rowid);
  bool confirmed(std::int64_t rowid, std::string_view sender, const std::string& cid);
  void commit();
  void write_batch();
  void finish_batch(bool ok);
  // Hands a committed message over; returns its ack (null without a cid).
  protocol::shared_frame deliver(staged& m);
  void mark_cursor(conversation& c, std::string_view participant);

  void load();
  void apply_retention(std::int64_t now_ms);
  void probe_recovery();
  // Ends a failed transaction, whether or not SQLite already has.
  void rollback();
  void set_health(bool up, std::string reason);
  protocol::shared_frame frame_of(std::int64_t rowid);

  const store_config config_;
  core::router& router_;
  data_dir_lock lock_;  // before the database is opened: one server per data dir
  database db_;
  std::string epoch_;  // from open_database(), before the statements below are prepared
  conversation_index index_;
  dedup_index dedup_;
  const std::int64_t retention_period_ms_;

  statement insert_message_;
  statement insert_conversation_;
  statement upsert_cursor_;
  statement select_message_;

  // The batch being staged.
  std::vector<staged> staged_;
  std::vector<step> steps_;
  std::unordered_map<conversation*, std::int64_t> staged_last_seq_;
  std::unordered_map<std::string, std::int64_t> staged_inbox_;  // recipient -> staged messages
  std::vector<cursor_write> cursor_writes_;
  std::vector<conversation*> inserted_;       // conversations whose row the batch wrote
  std::vector<std::string_view> recipients_;  // write_batch's, kept for their memory
  std::vector<bool> online_;

  // Retention's samples: (first row of a commit, its time), one a minute at most.
  std::deque<std::pair<std::int64_t, std::int64_t>> time_marks_;
  std::int64_t next_retention_ms_ = 0;
  std::int64_t newest_rowid_ = 0;  // the last message committed, and its time
  std::int64_t newest_ts_ = 0;

  mutable std::mutex health_mutex_;
  core::store_health health_;
  std::chrono::steady_clock::time_point next_probe_;

  request_queue queue_;
  std::thread thread_;
};

}  // namespace parley::store
