#include <spdlog/spdlog.h>

#include <filesystem>

#include "parley/core/clock.hpp"
#include "store_engine.hpp"

namespace parley::store {

// ---- start, retention, health

void sqlite_store::engine::load() {
  statement conversations(db_.handle(), "SELECT id, a, b, last_seq FROM conversations");
  while (conversations.step()) {
    conversation& c =
        index_.add(conversations.integer(0), conversations.text(1), conversations.text(2));
    // Set when retention deleted every message of it; its kept messages, if any, follow.
    c.last_seq = conversations.integer(3);
    c.first_seq = c.last_seq + 1;
  }
  std::int64_t now_ms = core::unix_millis();
  auto window_ms = static_cast<std::int64_t>(config_.dedup_seconds * 1000);
  statement messages(db_.handle(),
                     "SELECT id, conversation, seq, from_a, delivered, ts, cid FROM messages "
                     "ORDER BY id");
  std::size_t count = 0;
  while (messages.step()) {
    conversation* in = index_.find_by_db_id(messages.integer(1));
    if (!in) continue;
    std::int64_t rowid = messages.integer(0), seq = messages.integer(2), ts = messages.integer(5);
    const std::string& from = messages.integer(3) ? in->a : in->b;
    index_.append(*in, rowid, seq, from, ts, messages.integer(4) != 0);
    if (!messages.is_null(6) && now_ms - ts < window_ms) {
      dedup_.commit(dedup_index::key(from, messages.text(6)), rowid, ts);
    }
    if (time_marks_.empty() || ts - time_marks_.back().second >= retention_period_ms_) {
      time_marks_.emplace_back(rowid, ts);
    }
    newest_rowid_ = rowid;
    newest_ts_ = ts;
    ++count;
  }
  statement cursors(db_.handle(), "SELECT conversation, participant, delivered, read FROM cursors");
  while (cursors.step()) {
    conversation* in = index_.find_by_db_id(cursors.integer(0));
    if (!in) continue;
    std::string participant(cursors.text(1));
    index_.advance_delivered(*in, participant, cursors.integer(2));
    index_.advance_read(*in, participant, cursors.integer(3));
  }
  spdlog::info(
      "store: {} messages loaded from {}", count,
      std::filesystem::absolute(std::filesystem::path(config_.data_dir) / "parley.db").string());
}

void sqlite_store::engine::apply_retention(std::int64_t now_ms) {
  next_retention_ms_ = now_ms + retention_period_ms_;
  auto cutoff_ts = now_ms - static_cast<std::int64_t>(config_.retention_days * 86400000);
  // Rows before a mark are no newer than its time: the cut keeps anything it is unsure of.
  std::int64_t cut = 0;
  while (time_marks_.size() > 1 && time_marks_[1].second <= cutoff_ts) {
    cut = time_marks_[1].first;
    time_marks_.pop_front();
  }
  if (newest_rowid_ != 0 && newest_ts_ <= cutoff_ts) {  // every row is old enough
    cut = newest_rowid_ + 1;
    time_marks_.clear();
  }
  if (cut == 0) return;
  try {
    db_.exec("BEGIN IMMEDIATE");
    // A conversation left without a message keeps its last seq in its row: its seqs go on from
    // there after a restart, which finds no message of it.
    statement keep(db_.handle(), "UPDATE conversations SET last_seq = ? WHERE id = ?");
    for (const conversation* c : index_.emptied_by(cut))
      keep.bind(1, c->last_seq).bind(2, c->db_id).run();
    statement remove(db_.handle(), "DELETE FROM messages WHERE id < ?");
    remove.bind(1, cut).run();
    db_.exec("COMMIT");
    index_.drop_before(cut);
  } catch (const sqlite_error& e) {
    rollback();
    spdlog::warn("store: retention could not delete old messages: {}", e.what());
  }
}

void sqlite_store::engine::probe_recovery() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_probe_) return;
  next_probe_ = now + recovery_probe_period;
  try {
    // As large as a small batch (64 KiB), so a disk with room for a page but not for a
    // batch does not count as recovered.
    db_.exec(
        "BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta VALUES('probe', zeroblob(65536)); "
        "DELETE FROM meta WHERE key = 'probe'; COMMIT");
    set_health(true, {});
    spdlog::info("store: writable again");
  } catch (const sqlite_error&) {
    rollback();
  }
}

void sqlite_store::engine::rollback() {
  try {
    db_.exec("ROLLBACK");
  } catch (const sqlite_error&) {
    // SQLite may have rolled back already (SQLITE_FULL does).
  }
}

void sqlite_store::engine::set_health(bool up, std::string reason) {
  std::lock_guard lock(health_mutex_);
  health_.up = up;
  health_.reason = std::move(reason);
}

}  // namespace parley::store
