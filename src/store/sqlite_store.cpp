#include "parley/store/sqlite_store.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "conversation_index.hpp"
#include "counting_vfs.hpp"
#include "data_dir_lock.hpp"
#include "dedup_index.hpp"
#include "parley/core/clock.hpp"
#include "parley/protocol/server_frames.hpp"
#include "parley/protocol/utf8_validator.hpp"
#include "schema.hpp"
#include "sqlite_db.hpp"

namespace parley::store {

using core::store_client;
using protocol::error_code;

namespace {

// Requests queued and not yet taken by the store's thread, at most. Far above what a commit's
// time lets pile up (about 2 ms of messages), so it is reached only when the disk stalls; past
// it senders get `unavailable` at once rather than growing memory without end.
constexpr std::size_t max_queued_requests = 1 << 16;
// How often a store that failed tries a small write to learn the disk is back.
constexpr auto recovery_probe_period = std::chrono::seconds(1);
// How often retention runs, and the spacing of the (row, time) samples it finds its cut with:
// a sixteenth of the retention (so a message leaves at most 1/16 late), at most a minute.
std::int64_t retention_period_ms(const store_config& config) {
  auto ms = static_cast<std::int64_t>(config.retention_days * 86'400'000 / 16);
  return std::clamp<std::int64_t>(ms, 10, 60'000);
}
// The WAL is checkpointed into the database past this many pages (4 KiB each): larger than
// SQLite's 1000, so that checkpoints (which sync the database file) come less often.
constexpr int wal_checkpoint_pages = 8192;

struct send_request {
  store_client from;
  core::outgoing_message message;
  std::uint64_t dedup_key = 0;  // of (sender, cid), when it has a cid; set by the store's thread
};
struct inbox_request {
  store_client to;
};
struct read_request {
  store_client reader;
  std::string with;
  std::int64_t seq;
  std::optional<std::string> cid;
};
struct history_request {
  store_client asker;
  core::history_query query;
};
struct conversations_request {
  store_client asker;
  core::conversations_query query;
};
using request =
    std::variant<send_request, inbox_request, read_request, history_request, conversations_request>;

const store_client& client_of(const request& r) {
  return std::visit(
      [](const auto& x) -> const store_client& {
        if constexpr (requires { x.from; })
          return x.from;
        else if constexpr (requires { x.to; })
          return x.to;
        else if constexpr (requires { x.reader; })
          return x.reader;
        else
          return x.asker;
      },
      r);
}

void reply(const store_client& c, protocol::shared_frame frame) {
  c.self->deliver(std::move(frame));
}

protocol::shared_frame error_for(const std::optional<std::string>& cid, error_code code,
                                 std::string_view message,
                                 std::optional<std::string_view> to = {}) {
  std::optional<std::string_view> cid_view;
  if (cid) cid_view = *cid;
  return protocol::error_frame(code, cid_view, message, to);
}

void reply_error(const store_client& c, error_code code, const std::optional<std::string>& cid,
                 std::string_view message, std::optional<std::string_view> to = {}) {
  reply(c, error_for(cid, code, message, to));
}

constexpr std::string_view unavailable_text = "the store is unavailable; retry with the same cid";

}  // namespace

class sqlite_store::engine {
 public:
  engine(const store_config& config, core::router& router);
  ~engine();

  void submit(request r);
  void flush(std::chrono::milliseconds limit);
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
  std::string epoch_;  // set up by open() before the statements below are prepared
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

  std::mutex mutex_;  // guards queue_, stopping_, taken_, answered_
  std::condition_variable wake_;
  std::condition_variable progressed_;
  std::vector<request> queue_;
  std::uint64_t queued_total_ = 0;    // requests ever queued
  std::uint64_t answered_total_ = 0;  // requests ever answered
  bool stopping_ = false;
  std::thread thread_;
};

namespace {

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
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void sqlite_store::engine::submit(request r) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() < max_queued_requests && !stopping_) {
      queue_.push_back(std::move(r));
      ++queued_total_;
      if (queue_.size() == 1) wake_.notify_one();
      return;
    }
  }
  const store_client& c = client_of(r);
  std::optional<std::string> cid;
  if (auto* s = std::get_if<send_request>(&r)) cid = s->message.cid;
  reply_error(c, error_code::unavailable, cid, "the store is overloaded; retry with the same cid");
  done(c);
}

void sqlite_store::engine::flush(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  std::uint64_t target = queued_total_;
  progressed_.wait_for(lock, limit, [&] { return answered_total_ >= target; });
}

void sqlite_store::engine::run() {
  std::vector<request> taken;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      auto idle = std::min<std::chrono::milliseconds>(
          recovery_probe_period, std::chrono::milliseconds(retention_period_ms_));
      wake_.wait_for(lock, idle, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) return;
      taken.swap(queue_);
    }
    prefetch_dedup(taken);
    for (request& r : taken)
      handle(r);
    commit();
    {
      std::lock_guard lock(mutex_);
      answered_total_ += taken.size();
    }
    progressed_.notify_all();
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

// ---- sending

void sqlite_store::engine::handle(send_request& r) {
  std::int64_t now_ms = core::unix_millis();
  const store_client& c = r.from;
  const std::string& sender = c.who->id;
  if (r.message.cid) {
    if (auto hit = dedup_.find(r.dedup_key, now_ms)) {
      if (hit->staged) {
        // A retry of a message in this very batch: acked after it, as a duplicate.
        stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
        auto first = static_cast<std::size_t>(hit->value);
        return after_commit([this, c, first](bool ok) {
          if (!ok) {
            reply_error(c, error_code::unavailable, staged_[first].message.cid, unavailable_text);
          } else {
            answer_duplicate(c, staged_[first].rowid);
          }
          done(c);
        });
      }
      if (confirmed(hit->value, sender, *r.message.cid)) {
        stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
        // After the batch, so it follows the acks of what the connection sent before.
        return after_commit([this, c, rowid = hit->value](bool) {
          answer_duplicate(c, rowid);
          done(c);
        });
      }
    }
  }
  const std::string& to = r.message.to;
  auto waiting = index_.undelivered(to) + staged_inbox_[to];
  if (to != sender && waiting >= static_cast<std::int64_t>(config_.max_inbox_messages)) {
    auto cid = r.message.cid;
    return after_commit([c, cid, to, max = config_.max_inbox_messages](bool) {
      reply_error(c, error_code::inbox_full, cid,
                  "Client #" + to + " has " + std::to_string(max) + " undelivered messages", to);
      c.self->store_done();
    });
  }
  stage(r, now_ms);
}

// Whether row `rowid` is sender's message with `cid` (not a hash collision, nor a row dropped).
bool sqlite_store::engine::confirmed(std::int64_t rowid, std::string_view sender,
                                     const std::string& cid) {
  select_message_.bind(1, rowid);
  bool same = false;
  if (select_message_.step()) {
    conversation* c = index_.find_by_db_id(select_message_.integer(0));
    bool from_a = select_message_.integer(2) != 0;
    same = c && (from_a ? c->a : c->b) == sender && !select_message_.is_null(9) &&
           select_message_.text(9) == cid;
    select_message_.reset();
  }
  return same;
}

void sqlite_store::engine::answer_duplicate(const store_client& c, std::int64_t rowid) {
  select_message_.bind(1, rowid);
  if (!select_message_.step()) return;  // dropped by retention since: nothing to repeat
  conversation* in = index_.find_by_db_id(select_message_.integer(0));
  std::int64_t seq = select_message_.integer(1);
  std::string mid(select_message_.text(3));
  std::int64_t ts = select_message_.integer(4);
  std::string cid(select_message_.text(9));
  select_message_.reset();
  const std::string& sender = c.who->id;
  bool delivered = in && (in->a == in->b || in->cursor_of(in->peer_of(sender)).delivered >= seq);
  reply(c, protocol::stored_ack_frame({cid, mid, seq, ts,
                                       delivered ? protocol::delivery_status::delivered
                                                 : protocol::delivery_status::stored,
                                       true}));
}

void sqlite_store::engine::stage(send_request& r, std::int64_t now_ms) {
  const std::string& sender = r.from.who->id;
  const std::string& to = r.message.to;
  conversation* in = index_.find(sender, to);
  if (!in) in = &index_.add(0, sender, to);  // its row is written with the batch
  auto [last, fresh] = staged_last_seq_.try_emplace(in, in->last_seq);
  std::int64_t seq = ++last->second;
  if (r.message.cid) dedup_.stage(r.dedup_key, staged_.size());
  if (to != sender) ++staged_inbox_[to];
  steps_.emplace_back(staged_.size());
  staged_.push_back({std::move(r.from), std::move(r.message), in, seq, router_.next_message_id(),
                     now_ms, r.dedup_key, false});
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

// A committed message: to the recipient's connections when it was online at commit, to the
// sender's other connections, then the ack.
protocol::shared_frame sqlite_store::engine::deliver(staged& m) {
  const core::member& from = *m.from.who;
  const core::outgoing_message& msg = m.message;
  protocol::shared_frame frame =
      msg.binary ? protocol::file_frame({from.id, msg.to, msg.name, msg.mime, m.mid, m.ts, m.seq},
                                        msg.body)
                 : protocol::chat_message_frame(from.id, msg.to, msg.body, m.mid, m.ts, m.seq);
  // A recipient offline at commit gets it through its inbox, even if it has connected since.
  if (m.recipient_online) {
    router_.route_stored(from, msg.to, frame);
  } else {
    router_.notify_others(from, frame);
  }
  if (!msg.cid) return nullptr;
  return protocol::stored_ack_frame({*msg.cid, m.mid, m.seq, m.ts,
                                     m.recipient_online ? protocol::delivery_status::delivered
                                                        : protocol::delivery_status::stored,
                                     false});
}

void sqlite_store::engine::mark_cursor(conversation& c, std::string_view participant) {
  cursor_writes_.push_back({&c, std::string(participant)});
}

// ---- reading and cursors

void sqlite_store::engine::handle(inbox_request& r) {
  const store_client& c = r.to;
  const std::string& id = c.who->id;
  bool more = false;
  auto waiting = index_.waiting_for(id, config_.inbox_push_max, more);
  // The highest seq pushed per conversation (items ascend within one).
  std::unordered_map<conversation*, std::int64_t> up_to;
  for (const waiting_message& w : waiting) {
    if (auto frame = frame_of(w.rowid)) reply(c, std::move(frame));
    up_to[w.in] = w.seq;
  }
  reply(c, protocol::inbox_frame(waiting.size(), more));
  std::vector<std::pair<std::string, std::int64_t>> receipts;
  for (auto [in, seq] : up_to) {
    if (!index_.advance_delivered(*in, id, seq)) continue;
    mark_cursor(*in, id);
    receipts.emplace_back(in->peer_of(id), seq);
  }
  after_commit([this, c, id, receipts = std::move(receipts)](bool ok) {
    if (ok) {
      for (const auto& [peer, seq] : receipts)
        router_.notify(peer, protocol::receipt_frame(id, seq, protocol::receipt_kind::delivered));
    }
    done(c);
  });
}

void sqlite_store::engine::handle(read_request& r) {
  const store_client& c = r.reader;
  const std::string& id = c.who->id;
  conversation* in = index_.find(id, r.with);
  std::int64_t last = in ? in->last_seq : 0;
  if (r.seq > last) {
    reply_error(c, error_code::bad_request, r.cid,
                "seq " + std::to_string(r.seq) + " is past the conversation's last (" +
                    std::to_string(last) + ")");
    return done(c);
  }
  if (!in || !index_.advance_read(*in, id, r.seq)) return done(c);
  mark_cursor(*in, id);
  after_commit([this, c, with = std::move(r.with), seq = r.seq](bool ok) {
    if (ok) {
      router_.notify(with, protocol::receipt_frame(c.who->id, seq, protocol::receipt_kind::read));
      router_.notify_others(*c.who, protocol::read_sync_frame(with, seq));
    }
    done(c);
  });
}

void sqlite_store::engine::handle(history_request& r) {
  const store_client& c = r.asker;
  const core::history_query& q = r.query;
  conversation* in = index_.find(c.who->id, q.with);
  std::int64_t first = in ? in->first_seq : 1;
  std::int64_t last = in ? in->last_seq : 0;
  if (in && in->entries.empty()) first = last + 1;
  std::int64_t lo, hi;
  bool more;
  if (q.after) {
    lo = std::max(*q.after + 1, first);
    hi = std::min(last, lo + q.limit - 1);
    more = hi < last;
  } else {
    hi = std::min(last, q.before ? *q.before - 1 : last);
    lo = std::max(first, hi - q.limit + 1);
    more = lo > first && hi >= first;
  }
  std::size_t count = 0;
  for (std::int64_t seq = lo; in && seq <= hi; ++seq) {
    if (auto frame = frame_of(in->rowid(seq))) {
      reply(c, std::move(frame));
      ++count;
    }
  }
  std::optional<std::string_view> cid;
  if (q.cid) cid = *q.cid;
  reply(c, protocol::history_frame(q.with, cid, count, more, first));
  done(c);
}

void sqlite_store::engine::handle(conversations_request& r) {
  const store_client& c = r.asker;
  const std::string& id = c.who->id;
  std::vector<conversation*> mine;
  for (conversation* in : index_.of(id)) {
    if (in->entries.empty()) continue;
    if (r.query.before_ts && !(static_cast<double>(in->last_ts) < *r.query.before_ts)) continue;
    mine.push_back(in);
  }
  std::sort(mine.begin(), mine.end(), [](const conversation* x, const conversation* y) {
    return x->last_rowid > y->last_rowid;
  });
  bool more = mine.size() > static_cast<std::size_t>(r.query.limit);
  if (more) mine.resize(static_cast<std::size_t>(r.query.limit));
  std::vector<protocol::conversation_summary> items;
  for (conversation* in : mine) {
    const std::string& peer = in->peer_of(id);
    protocol::conversation_summary s;
    s.with = peer;
    s.last_seq = in->last_seq;
    s.last_ts = in->last_ts;
    s.unread = conversation_index::unread(*in, id);
    s.read = in->cursor_of(id).read;
    s.delivered = in->cursor_of(id).delivered;
    s.peer_read = in->cursor_of(peer).read;
    s.peer_delivered = in->cursor_of(peer).delivered;
    s.last_from = in->sender(in->last_seq);
    select_message_.bind(1, in->last_rowid);
    if (select_message_.step()) {
      if (select_message_.integer(5) == 0) {
        s.last_text = protocol::utf8_prefix(select_message_.text(6), 200);
      } else {
        s.last_name = select_message_.optional_text(7);
        s.last_mime = select_message_.optional_text(8);
      }
      select_message_.reset();
    }
    items.push_back(std::move(s));
  }
  std::optional<std::string_view> cid;
  if (r.query.cid) cid = *r.query.cid;
  reply(c, protocol::conversations_frame(items, more, cid));
  done(c);
}

// The frame a live recipient gets for the stored row, or null when it is gone.
protocol::shared_frame sqlite_store::engine::frame_of(std::int64_t rowid) {
  select_message_.bind(1, rowid);
  if (!select_message_.step()) return nullptr;
  conversation* in = index_.find_by_db_id(select_message_.integer(0));
  protocol::shared_frame frame;
  if (in) {
    bool from_a = select_message_.integer(2) != 0;
    const std::string& from = from_a ? in->a : in->b;
    const std::string& to = from_a ? in->b : in->a;
    std::int64_t seq = select_message_.integer(1);
    std::string_view mid = select_message_.text(3);
    std::int64_t ts = select_message_.integer(4);
    if (select_message_.integer(5) == 0) {
      frame = protocol::chat_message_frame(from, to, select_message_.text(6), mid, ts, seq);
    } else {
      auto name = select_message_.optional_text(7);
      auto mime = select_message_.optional_text(8);
      std::optional<std::string_view> name_view, mime_view;
      if (name) name_view = *name;
      if (mime) mime_view = *mime;
      frame = protocol::file_frame({from, to, name_view, mime_view, mid, ts, seq},
                                   select_message_.text(6));
    }
  }
  select_message_.reset();
  return frame;
}

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

// ---- the public face

sqlite_store::sqlite_store(const store_config& config, core::router& router) {
  try {
    engine_ = std::make_unique<engine>(config, router);
  } catch (const std::filesystem::filesystem_error& e) {
    throw std::runtime_error("store " + config.data_dir + ": " + e.what());
  } catch (const std::runtime_error& e) {
    // sqlite_error, or migrate()'s refusal of a database made by a newer Parley
    throw std::runtime_error("store " + config.data_dir + "/parley.db: " + e.what());
  }
}

sqlite_store::~sqlite_store() = default;

std::string_view sqlite_store::epoch() const {
  return engine_->epoch();
}

core::store_health sqlite_store::health() const {
  return engine_->health();
}

void sqlite_store::send(store_client from, core::outgoing_message message) {
  engine_->submit(send_request{std::move(from), std::move(message)});
}

void sqlite_store::push_inbox(store_client to) {
  engine_->submit(inbox_request{std::move(to)});
}

void sqlite_store::read(store_client reader, std::string with, std::int64_t seq,
                        std::optional<std::string> cid) {
  engine_->submit(read_request{std::move(reader), std::move(with), seq, std::move(cid)});
}

void sqlite_store::history(store_client asker, core::history_query query) {
  engine_->submit(history_request{std::move(asker), std::move(query)});
}

void sqlite_store::conversations(store_client asker, core::conversations_query query) {
  engine_->submit(conversations_request{std::move(asker), std::move(query)});
}

void sqlite_store::flush(std::chrono::milliseconds limit) {
  engine_->flush(limit);
}

const store_stats& sqlite_store::stats() const {
  return engine_->stats_;
}

std::uint64_t sqlite_store::syncs() const {
  return sync_count();
}

}  // namespace parley::store
