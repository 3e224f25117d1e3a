#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "counting_vfs.hpp"
#include "parley/core/clock.hpp"
#include "schema.hpp"
#include "store_engine.hpp"

namespace parley::store {

namespace {

// How often retention runs, and the spacing of the (row, time) samples it finds its cut with:
// a sixteenth of the retention (so a message leaves at most 1/16 late), at most a minute.
std::int64_t retention_period_ms(const store_config& config) {
  auto ms = static_cast<std::int64_t>(config.retention_days * 86'400'000 / 16);
  return std::clamp<std::int64_t>(ms, 10, 60'000);
}
// The WAL is checkpointed into the database past this many pages (4 KiB each): larger than
// SQLite's 1000, so that checkpoints (which sync the database file) come less often.
constexpr int wal_checkpoint_pages = 8192;

std::string database_path(const store_config& config) {
  return (std::filesystem::path(config.data_dir) / "parley.db").string();
}

// The data dir, made when missing, for the lock that comes first.
const std::string& made_data_dir(const store_config& config) {
  std::filesystem::create_directories(config.data_dir);
  return config.data_dir;
}

// Sets the journal and sync modes the contract names, migrates, and returns the epoch.
std::string open_database(database& db) {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA wal_autocheckpoint=" + std::to_string(wal_checkpoint_pages));
  return migrate(db);
}

}  // namespace

sqlite_store::engine::engine(const store_config& config, core::router& router)
    : config_(config),
      router_(router),
      lock_(made_data_dir(config)),
      db_(database_path(config), counting_vfs_name()),
      epoch_(open_database(db_)),
      dedup_(static_cast<std::int64_t>(config.dedup_seconds * 1000), config.max_dedup_entries),
      retention_period_ms_(retention_period_ms(config)),
      insert_message_(db_.handle(),
                      "INSERT INTO messages(conversation, seq, from_a, delivered, mid, ts, cid, "
                      "kind, body, name, mime) VALUES(?,?,?,?,?,?,?,?,?,?,?)"),
      insert_conversation_(db_.handle(), "INSERT INTO conversations(a, b) VALUES(?,?)"),
      upsert_cursor_(db_.handle(),
                     "INSERT INTO cursors VALUES(?,?,?,?) "
                     "ON CONFLICT(conversation, participant) DO UPDATE SET "
                     "delivered = max(delivered, excluded.delivered), "
                     "read = max(read, excluded.read)"),
      select_message_(db_.handle(),
                      "SELECT conversation, seq, from_a, mid, ts, kind, body, name, mime, cid "
                      "FROM messages WHERE id = ?") {
  load();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "parley-store");  // so top and perf tell it apart
    run();
  });
}

sqlite_store::engine::~engine() {
  queue_.stop();
  thread_.join();
}

void sqlite_store::engine::run() {
  std::vector<request> taken;
  auto idle = std::min<std::chrono::milliseconds>(recovery_probe_period,
                                                  std::chrono::milliseconds(retention_period_ms_));
  while (queue_.take(taken, idle, request_queue::max_queued)) {
    prefetch_dedup(taken);
    for (request& r : taken)
      handle(r);
    commit();
    queue_.answered(taken.size());
    taken.clear();
    std::int64_t now_ms = core::unix_millis();
    if (config_.retention_days > 0 && now_ms >= next_retention_ms_) apply_retention(now_ms);
    if (!health().up) probe_recovery();
  }
}

// The dedup keys of the messages taken, their table slots loaded into the cache together.
void sqlite_store::engine::prefetch_dedup(std::vector<request>& taken) {
  for (request& r : taken) {
    auto* send = std::get_if<send_request>(&r);
    if (!send || !send->message.cid) continue;
    send->dedup_key = dedup_index::key(send->from.who->id, *send->message.cid);
    dedup_.prefetch(send->dedup_key);
  }
}

void sqlite_store::engine::handle(request& r) {
  // Answers that read the store see every message staged before them committed.
  if (!std::holds_alternative<send_request>(r) && (!steps_.empty() || !cursor_writes_.empty())) {
    commit();
  }
  std::visit([this](auto& x) { handle(x); }, r);
}

// ---- committing

void sqlite_store::engine::commit() {
  if (steps_.empty() && cursor_writes_.empty()) return;
  bool ok = true;
  if (!staged_.empty() || !cursor_writes_.empty()) {
    try {
      write_batch();
      set_health(true, {});
    } catch (const sqlite_error& e) {
      ok = false;
      stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
      rollback();
      set_health(false, e.what());
      // The probe waits its period: a one-page write may fit where the batch did not.
      next_probe_ = std::chrono::steady_clock::now() + recovery_probe_period;
      spdlog::error("store: commit of {} messages failed: {}", staged_.size(), e.what());
    }
  }
  finish_batch(ok);
}

void sqlite_store::engine::write_batch() {
  // The recipient is judged online at commit: its connections get the message now, or it waits.
  recipients_.clear();
  for (const staged& m : staged_)
    recipients_.push_back(m.message.to);
  router_.online(recipients_, online_);
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    staged& m = staged_[i];
    m.recipient_online = online_[i] || m.message.to == m.from.who->id;
  }
  db_.exec("BEGIN IMMEDIATE");
  for (staged& m : staged_) {
    conversation& c = *m.in;
    if (c.db_id == 0) {
      insert_conversation_.bind(1, std::string_view(c.a)).bind(2, std::string_view(c.b)).run();
      index_.set_db_id(c, db_.last_insert_rowid());
      inserted_.push_back(&c);
    }
    insert_message_.bind(1, c.db_id)
        .bind(2, m.seq)
        .bind(3, std::int64_t{c.is_a(m.from.who->id)})
        .bind(4, std::int64_t{m.recipient_online})
        .bind(5, m.mid.view())
        .bind(6, m.ts)
        .bind(7, m.message.cid)
        .bind(8, std::int64_t{m.message.binary});
    insert_message_.bind_blob(9, m.message.body)
        .bind(10, m.message.name)
        .bind(11, m.message.mime)
        .run();
    m.rowid = db_.last_insert_rowid();
  }
  for (const cursor_write& w : cursor_writes_) {
    const cursor& at = w.in->cursor_of(w.participant);
    upsert_cursor_.bind(1, w.in->db_id)
        .bind(2, std::string_view(w.participant))
        .bind(3, at.delivered)
        .bind(4, at.read)
        .run();
  }
  db_.exec("COMMIT");
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
  stats_.committed_messages.fetch_add(staged_.size(), std::memory_order_relaxed);
  if (!staged_.empty()) {
    newest_rowid_ = staged_.back().rowid;
    newest_ts_ = staged_.back().ts;
  }
  if (!staged_.empty() && (time_marks_.empty() || staged_.front().ts - time_marks_.back().second >=
                                                      retention_period_ms_)) {
    time_marks_.emplace_back(staged_.front().rowid, staged_.front().ts);
  }
}

void sqlite_store::engine::finish_batch(bool ok) {
  for (const staged& m : staged_) {
    if (m.message.cid) dedup_.prefetch(m.dedup_key);
  }
  if (!ok) {
    for (conversation* c : inserted_)
      index_.set_db_id(*c, 0);  // its row was rolled back
  }
  inserted_.clear();
  for (staged& m : staged_) {
    if (!ok) {
      if (m.message.cid) dedup_.unstage(m.dedup_key);
      continue;
    }
    index_.append(*m.in, m.rowid, m.seq, m.from.who->id, m.ts, m.recipient_online);
    if (m.message.cid) dedup_.commit(m.dedup_key, m.rowid, m.ts);
  }
  std::vector<step> steps;
  steps.swap(steps_);
  for (step& s : steps) {
    if (auto* index = std::get_if<std::size_t>(&s)) {
      staged& m = staged_[*index];
      done(m.from,
           ok ? deliver(m) : error_for(m.message.cid, error_code::unavailable, unavailable_text));
    } else {
      std::get<std::function<void(bool)>>(s)(ok);
    }
  }
  staged_.clear();
  staged_last_seq_.clear();
  staged_inbox_.clear();
  cursor_writes_.clear();
}

}  // namespace parley::store
