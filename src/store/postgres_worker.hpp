#pragma once
// Private to src/store: one connection of the postgres store's pool and the thread that owns
// it. Its work is split by concern: postgres_worker.cpp (the thread, the group commit, failure
// and recovery), postgres_sending.cpp (dedup, inbox limits, staging, hand-over and acks) and
// postgres_reading.cpp (the inbox, read cursors, history, conversations). Only the worker's
// thread touches its members, except queue_, health_ (under health_mutex_) and the atomic stats.
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "parley/store/postgres_store.hpp"
#include "postgres_conn.hpp"
#include "request_queue.hpp"

namespace parley::store {

// Requests one worker takes into a batch at most: bounds the pipelined transaction (its results
// wait in the socket until the batch is sent) and the time one slow batch holds its rows locked.
inline constexpr std::size_t max_batch_requests = 1024;
// Message bodies one statement carries at most (a batch of large files takes several): its
// parameters are held in memory a few times over (here as hex, in libpq, in the server), and
// PostgreSQL refuses a value past 1 GB.
inline constexpr std::size_t max_statement_body_bytes = 16 << 20;
// Times a batch runs again after a deadlock, a serialization failure or a retry that raced a
// commit of its original on another node, before its messages get `unavailable`.
inline constexpr int max_batch_attempts = 4;

class postgres_store::worker {
 public:
  // Connects (throws pg_error). `upkeep`: this worker also trims expired dedup entries and,
  // with retention, old messages (one worker per node does).
  worker(const store_config& config, core::router& router, store_stats& stats, bool upkeep);
  // Prepares the statements (throws pg_error) and starts the thread: after the migration.
  void start();
  // Answers what is queued, then stops the thread.
  ~worker();

  void submit(request r) { queue_.submit(std::move(r)); }
  void flush(std::chrono::milliseconds limit) { queue_.flush(limit); }
  core::store_health health() const {
    std::lock_guard lock(health_mutex_);
    return health_;
  }
  // The first connection migrates before the others start.
  pg_connection& connection() { return db_; }

 private:
  // What a retry found of the message it repeats.
  struct earlier {
    std::string mid;
    std::int64_t seq = 0, ts = 0;
    bool kept = true;  // false: removed by retention since (nothing to repeat)
    bool delivered = false;
  };
  struct staged {
    store_client from;
    core::outgoing_message message;
    core::message_id mid;
    std::int64_t ts;
    bool recipient_online = false;
    std::int64_t seq = 0;
    std::optional<earlier> raced;  // committed by another node while this batch ran
  };
  using step = std::variant<std::size_t /* index into staged_ */, std::function<void(bool ok)>>;
  struct cursor_write {
    std::int64_t conversation;
    std::string participant;
    std::int64_t delivered, read;
  };

  void run();
  void handle(request& r);
  void handle(send_request& r);
  void handle(inbox_request& r);
  void handle(read_request& r);
  void handle(history_request& r);
  void handle(conversations_request& r);
  void after_commit(std::function<void(bool ok)> then) { steps_.emplace_back(std::move(then)); }
  static void done(const store_client& c, protocol::shared_frame last = nullptr) {
    c.self->store_done(std::move(last));
  }
  void refuse(request& r);

  void prefetch(std::vector<request>& taken);
  std::unordered_map<std::string, earlier> find_earlier(
      const std::vector<std::string_view>& senders, const std::vector<std::string_view>& cids);
  void stage(send_request& r, std::int64_t now_ms);
  void answer_duplicate(const store_client& c, const earlier& e, const std::string& cid);
  void commit();
  bool write_batch();
  std::vector<std::pair<std::size_t, std::size_t>> chunked(
      const std::vector<std::size_t>& order) const;
  void send_messages(std::span<const std::size_t> chunk);
  void mark_raced();
  void finish_batch(bool ok);

  std::int64_t dedup_cutoff_ms() const;
  void upkeep(std::int64_t now_ms);
  void prepare();
  void failed(const pg_error& e, std::string_view what);
  void probe_recovery();
  void set_health(bool up, std::string reason);
  protocol::shared_frame frame_of(const pg_result& rows, int row, std::string_view a,
                                  std::string_view b, int first_col);

  const store_config config_;
  core::router& router_;
  store_stats& stats_;
  const bool upkeep_;
  pg_connection db_;

  // The batch being staged, and what its prefetch found.
  std::vector<staged> staged_;
  std::vector<step> steps_;
  std::vector<cursor_write> cursor_writes_;
  std::unordered_map<std::string, std::size_t> staged_cids_;  // sender "\n" cid -> staged_
  std::unordered_map<std::string, earlier> earlier_;          // sender "\n" cid -> committed
  std::unordered_map<std::string, std::int64_t> waiting_;     // recipient -> pending + staged
  std::vector<std::string_view> recipients_;
  std::vector<bool> online_;

  std::int64_t next_upkeep_ms_ = 0;
  mutable std::mutex health_mutex_;
  core::store_health health_;
  std::chrono::steady_clock::time_point next_probe_;

  request_queue queue_;
  std::thread thread_;
};

// The conversation of x and y as the tables key it: {a, b} with a <= b.
inline std::pair<std::string_view, std::string_view> conversation_key(std::string_view x,
                                                                      std::string_view y) {
  return x <= y ? std::pair{x, y} : std::pair{y, x};
}

// "sender\ncid": the key of a (sender, cid) pair in the maps above (ids hold no newline).
inline std::string dedup_key(std::string_view sender, std::string_view cid) {
  std::string key(sender);
  key += '\n';
  key += cid;
  return key;
}

}  // namespace parley::store
