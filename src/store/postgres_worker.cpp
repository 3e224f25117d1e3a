#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

#include "parley/core/clock.hpp"
#include "postgres_worker.hpp"

namespace parley::store {

namespace {

// One message stored: its conversation's seq bumped under the row's lock, the row, its dedup
// entry (a live one is never overwritten: then the query says false and the batch runs again),
// the sender's delivered cursor (and the recipient's when it was online at commit, which also
// passes what waited for it), or the recipient's pending entry.
//  $1 a  $2 b  $3 from_a  $4 mid  $5 ts  $6 cid  $7 kind  $8 body  $9 name  $10 mime
//  $11 sender  $12 recipient  $13 recipient online  $14 dedup cutoff (ms)
constexpr std::string_view insert_message_sql = R"sql(
WITH c AS (
  INSERT INTO conversations AS t(a, b, last_seq) VALUES($1, $2, 1)
  ON CONFLICT (a, b) DO UPDATE SET last_seq = t.last_seq + 1
  RETURNING id, last_seq),
m AS (
  INSERT INTO messages(conversation, seq, from_a, mid, ts, cid, kind, body, name, mime)
  SELECT id, last_seq, $3, $4, $5, $6::text, $7, $8, $9, $10 FROM c
  RETURNING id, conversation, seq),
d AS (
  INSERT INTO dedup AS t(sender, cid, ts, conversation, seq)
  SELECT $11::text, $6::text, $5, conversation, seq FROM m WHERE $6::text IS NOT NULL
  ON CONFLICT (sender, cid) DO UPDATE
    SET ts = excluded.ts, conversation = excluded.conversation, seq = excluded.seq
    WHERE t.ts < $14
  RETURNING 1),
k AS (
  INSERT INTO cursors AS t(conversation, participant, delivered, read)
  SELECT conversation, p, seq, 0 FROM m, unnest(CASE WHEN $13::boolean AND $11::text <> $12::text
    THEN ARRAY[$11::text, $12::text] ELSE ARRAY[$11::text] END) AS p
  ON CONFLICT (conversation, participant) DO UPDATE
    SET delivered = greatest(t.delivered, excluded.delivered)),
w AS (
  INSERT INTO pending(recipient, message, conversation, seq)
  SELECT $12::text, id, conversation, seq FROM m WHERE NOT $13::boolean AND $11::text <> $12::text),
x AS (
  DELETE FROM pending p USING m
  WHERE $13::boolean AND p.recipient = $12::text AND p.conversation = m.conversation
    AND p.seq < m.seq)
SELECT seq, $6::text IS NULL OR EXISTS(SELECT 1 FROM d) FROM m)sql";

// A participant's cursors moved up (never down), and what waited for it up to them removed.
//  $1 conversation  $2 participant  $3 delivered  $4 read
constexpr std::string_view advance_cursor_sql = R"sql(
WITH k AS (
  INSERT INTO cursors AS t(conversation, participant, delivered, read) VALUES($1, $2, $3, $4)
  ON CONFLICT (conversation, participant) DO UPDATE
    SET delivered = greatest(t.delivered, excluded.delivered), read = greatest(t.read, excluded.read))
DELETE FROM pending WHERE recipient = $2 AND conversation = $1 AND seq <= $3)sql";

// The live dedup entries of (senders[i], cids[i]), with what a duplicate's ack repeats.
constexpr std::string_view find_earlier_sql = R"sql(
SELECT d.sender, d.cid, m.mid, m.ts, d.seq, m.id IS NOT NULL,
       c.a = c.b OR coalesce(k.delivered, 0) >= d.seq
FROM unnest($1::text[], $2::text[]) AS q(sender, cid)
JOIN dedup d ON d.sender = q.sender AND d.cid = q.cid AND d.ts >= $3
JOIN conversations c ON c.id = d.conversation
LEFT JOIN messages m ON m.conversation = d.conversation AND m.seq = d.seq
LEFT JOIN cursors k ON k.conversation = d.conversation
  AND k.participant = CASE WHEN c.a = d.sender THEN c.b ELSE c.a END)sql";

constexpr std::string_view count_pending_sql =
    "SELECT recipient, count(*) FROM pending WHERE recipient = ANY($1::text[]) GROUP BY recipient";

// The conversation {a, b}: id, last seq, first kept seq (null: none kept), $3's read cursor.
constexpr std::string_view find_conversation_sql = R"sql(
SELECT c.id, c.last_seq, (SELECT min(seq) FROM messages WHERE conversation = c.id),
       coalesce(k.read, 0)
FROM conversations c LEFT JOIN cursors k ON k.conversation = c.id AND k.participant = $3
WHERE c.a = $1 AND c.b = $2)sql";

constexpr std::string_view message_range_sql = R"sql(
SELECT seq, from_a, mid, ts, kind, body, name, mime FROM messages
WHERE conversation = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq)sql";

// What waits for $1, oldest first, at most $2.
constexpr std::string_view inbox_sql = R"sql(
SELECT p.conversation, c.a, c.b, p.seq, m.from_a, m.mid, m.ts, m.kind, m.body, m.name, m.mime
FROM pending p JOIN messages m ON m.id = p.message JOIN conversations c ON c.id = p.conversation
WHERE p.recipient = $1 ORDER BY p.message LIMIT $2)sql";

// $1's conversations with a kept last message, the latest first, at most $3 (before_ts $2).
constexpr std::string_view list_sql = R"sql(
SELECT c.a, c.b, c.last_seq, m.ts, m.from_a, m.kind, m.body, m.name, m.mime,
       coalesce(mine.read, 0), coalesce(mine.delivered, 0),
       coalesce(peer.read, 0), coalesce(peer.delivered, 0),
       (SELECT count(*) FROM messages u WHERE u.conversation = c.id
          AND u.seq > coalesce(mine.read, 0)
          AND (CASE WHEN u.from_a THEN c.a ELSE c.b END)
              = (CASE WHEN c.a = $1 THEN c.b ELSE c.a END))
FROM conversations c
JOIN messages m ON m.conversation = c.id AND m.seq = c.last_seq
LEFT JOIN cursors mine ON mine.conversation = c.id AND mine.participant = $1
LEFT JOIN cursors peer ON peer.conversation = c.id
  AND peer.participant = CASE WHEN c.a = $1 THEN c.b ELSE c.a END
WHERE (c.a = $1 OR c.b = $1) AND ($2::float8 IS NULL OR m.ts < $2)
ORDER BY m.id DESC LIMIT $3)sql";

// How often the upkeep runs: trims dedup entries past the window; with retention, deletes
// messages past it (a sixteenth of the retention late at most, as SQLite's; a minute at most).
std::int64_t upkeep_period_ms(const store_config& config) {
  if (config.retention_days <= 0) return 60'000;
  auto ms = static_cast<std::int64_t>(config.retention_days * 86'400'000 / 16);
  return std::clamp<std::int64_t>(ms, 10, 60'000);
}

// Errors that mean the database cannot take writes now (rather than this batch being wrong):
// the connection (class 08) or the server (53: out of disk or memory; 57: shutting down).
bool database_down(const pg_error& e) {
  auto cls = std::string_view(e.sqlstate).substr(0, 2);
  return e.connection_lost || cls == "08" || cls == "53" || cls == "57";
}

}  // namespace

postgres_store::worker::worker(const store_config& config, core::router& router, store_stats& stats,
                               bool upkeep)
    : config_(config), router_(router), stats_(stats), upkeep_(upkeep), db_(config.postgres_url) {}

void postgres_store::worker::start() {
  prepare();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "parley-pgstore");  // so top and perf tell it apart
    run();
  });
}

postgres_store::worker::~worker() {
  queue_.stop();
  if (thread_.joinable()) thread_.join();
}

void postgres_store::worker::prepare() {
  db_.prepare("insert_message", insert_message_sql);
  db_.prepare("advance_cursor", advance_cursor_sql);
  db_.prepare("find_earlier", find_earlier_sql);
  db_.prepare("count_pending", count_pending_sql);
  db_.prepare("find_conversation", find_conversation_sql);
  db_.prepare("message_range", message_range_sql);
  db_.prepare("inbox", inbox_sql);
  db_.prepare("list", list_sql);
}

void postgres_store::worker::run() {
  std::vector<request> taken;
  auto idle = std::min<std::chrono::milliseconds>(
      recovery_probe_period, std::chrono::milliseconds(upkeep_period_ms(config_)));
  while (queue_.take(taken, idle, max_batch_requests)) {
    if (!health().up) probe_recovery();
    if (health().up) {
      prefetch(taken);
      for (request& r : taken)
        handle(r);
      commit();
    } else {
      for (request& r : taken)
        refuse(r);
    }
    if (taken.empty() && health().up && !db_.alive()) {
      // So /healthz tells of a database that went away before a request finds out.
      failed(pg_error("the server closed the connection", "", true), "an idle connection");
    }
    queue_.answered(taken.size());
    taken.clear();
    std::int64_t now_ms = core::unix_millis();
    if (upkeep_ && health().up && now_ms >= next_upkeep_ms_) upkeep(now_ms);
  }
}

void postgres_store::worker::handle(request& r) {
  // Answers that read the database see every message staged before them committed.
  if (!std::holds_alternative<send_request>(r) && (!steps_.empty() || !cursor_writes_.empty())) {
    commit();
  }
  if (!health().up) return refuse(r);  // a commit just failed: no reads from a lost connection
  try {
    std::visit([this](auto& x) { handle(x); }, r);
  } catch (const pg_error& e) {
    // A read failed before it answered (reads answer only at their end).
    failed(e, "a read");
    refuse(r);
  }
}

// `unavailable` to a request the store cannot serve now.
void postgres_store::worker::refuse(request& r) {
  const store_client& c = client_of(r);
  std::optional<std::string> cid = std::visit(
      [](auto& x) -> std::optional<std::string> {
        if constexpr (requires { x.message.cid; })
          return x.message.cid;
        else if constexpr (requires { x.cid; })
          return x.cid;
        else if constexpr (requires { x.query.cid; })
          return x.query.cid;
        else
          return std::nullopt;
      },
      r);
  reply_error(c, error_code::unavailable, cid, unavailable_text);
  done(c);
}

// ---- committing

void postgres_store::worker::commit() {
  if (steps_.empty() && cursor_writes_.empty()) return;
  bool ok = true;
  if (!staged_.empty() || !cursor_writes_.empty()) {
    ok = false;
    for (int attempt = 1; attempt <= max_batch_attempts && !ok; ++attempt) {
      try {
        if (write_batch()) {
          ok = true;
        } else {
          mark_raced();  // a retry raced its original: answer it as a duplicate, run again
        }
      } catch (const pg_error& e) {
        if (db_.ok() && !e.connection_lost) {
          try {
            db_.exec("ROLLBACK");
          } catch (const pg_error&) {
          }
        }
        if (e.retryable() && attempt < max_batch_attempts) continue;
        failed(e, "a commit of " + std::to_string(staged_.size()) + " messages");
        break;
      }
    }
    if (!ok) stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
  }
  finish_batch(ok);
}

// One transaction of everything staged: BEGIN, the statements pipelined (conversations in one
// order, so that two batches lock them alike), then COMMIT once every result is in. False (rolled
// back) when a message's dedup entry was already live: another node committed its original.
bool postgres_store::worker::write_batch() {
  recipients_.clear();
  for (const staged& m : staged_)
    recipients_.push_back(m.message.to);
  router_.online(recipients_, online_);
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    staged& m = staged_[i];
    m.recipient_online = online_[i] || m.message.to == m.from.who->id;
    if (!m.raced) order.push_back(i);
  }
  auto pair = [this](std::size_t i) {
    const std::string& x = staged_[i].from.who->id;
    const std::string& y = staged_[i].message.to;
    return x <= y ? std::pair{std::string_view(x), std::string_view(y)}
                  : std::pair{std::string_view(y), std::string_view(x)};
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return pair(i) < pair(j); });
  std::sort(cursor_writes_.begin(), cursor_writes_.end(), [](const auto& x, const auto& y) {
    return std::tie(x.conversation, x.participant) < std::tie(y.conversation, y.participant);
  });
  db_.begin_pipeline();
  bool fresh = true;
  try {
    db_.send_sql("BEGIN");
    for (std::size_t i : order)
      send_message(staged_[i]);
    for (const cursor_write& w : cursor_writes_) {
      pg_params p;
      p.integer(w.conversation).text(w.participant).integer(w.delivered).integer(w.read);
      db_.send("advance_cursor", p);
    }
    db_.sync();
    db_.next_result();
    for (std::size_t i : order) {
      pg_result r = db_.next_result();
      staged_[i].seq = r.integer(0, 0);
      fresh = fresh && r.boolean(0, 1);
    }
    for (std::size_t i = 0; i < cursor_writes_.size(); ++i)
      db_.next_result();
  } catch (const pg_error&) {
    try {
      db_.end_pipeline();
    } catch (const pg_error&) {
    }
    throw;
  }
  db_.end_pipeline();
  if (!fresh) {
    db_.exec("ROLLBACK");
    return false;
  }
  db_.exec("COMMIT");
  stats_.commits.fetch_add(1, std::memory_order_relaxed);
  stats_.committed_messages.fetch_add(order.size(), std::memory_order_relaxed);
  return true;
}

void postgres_store::worker::send_message(const staged& m) {
  const std::string& sender = m.from.who->id;
  const std::string& to = m.message.to;
  bool from_a = sender <= to;
  pg_params p;
  p.text(from_a ? sender : to)
      .text(from_a ? to : sender)
      .boolean(from_a)
      .text(m.mid.view())
      .integer(m.ts)
      .optional_text(m.message.cid)
      .integer(m.message.binary ? 1 : 0)
      .bytes(m.message.body)
      .optional_text(m.message.name)
      .optional_text(m.message.mime)
      .text(sender)
      .text(to)
      .boolean(m.recipient_online)
      .integer(dedup_cutoff_ms());
  db_.send("insert_message", p);
}

// After a batch found a live dedup entry it did not expect: which of its messages are retries
// whose original another node committed meanwhile. They are answered as duplicates.
void postgres_store::worker::mark_raced() {
  std::vector<std::string_view> senders, cids;
  for (const staged& m : staged_) {
    if (m.message.cid && !m.raced) {
      senders.push_back(m.from.who->id);
      cids.push_back(*m.message.cid);
    }
  }
  auto found = find_earlier(senders, cids);
  for (staged& m : staged_) {
    if (!m.message.cid || m.raced) continue;
    auto it = found.find(dedup_key(m.from.who->id, *m.message.cid));
    if (it != found.end()) m.raced = it->second;
  }
}

void postgres_store::worker::finish_batch(bool ok) {
  std::vector<step> steps;
  steps.swap(steps_);
  for (step& s : steps) {
    if (auto* index = std::get_if<std::size_t>(&s)) {
      staged& m = staged_[*index];
      if (!ok) {
        done(m.from, error_for(m.message.cid, error_code::unavailable, unavailable_text));
      } else if (m.raced) {
        stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
        answer_duplicate(m.from, *m.raced, *m.message.cid);
        done(m.from);
      } else {
        done(m.from, hand_over(router_, *m.from.who, m.message, m.mid.view(), m.ts, m.seq,
                               m.recipient_online));
      }
    } else {
      std::get<std::function<void(bool)>>(s)(ok);
    }
  }
  staged_.clear();
  staged_cids_.clear();
  earlier_.clear();
  waiting_.clear();
  cursor_writes_.clear();
}

// ---- upkeep, failure and recovery

std::int64_t postgres_store::worker::dedup_cutoff_ms() const {
  return core::unix_millis() - static_cast<std::int64_t>(config_.dedup_seconds * 1000);
}

void postgres_store::worker::upkeep(std::int64_t now_ms) {
  next_upkeep_ms_ = now_ms + upkeep_period_ms(config_);
  try {
    db_.exec("DELETE FROM dedup WHERE ts < " + std::to_string(dedup_cutoff_ms()));
    if (config_.retention_days > 0) {
      // A conversation's row keeps its last seq: its seqs go on from there.
      auto cutoff = now_ms - static_cast<std::int64_t>(config_.retention_days * 86'400'000);
      db_.exec("DELETE FROM messages WHERE ts <= " + std::to_string(cutoff));
    }
  } catch (const pg_error& e) {
    spdlog::warn("store: postgres upkeep (dedup, retention) failed: {}", e.what());
  }
}

void postgres_store::worker::failed(const pg_error& e, std::string_view what) {
  spdlog::error("store: postgres: {} failed: {}", what, e.what());
  if (!database_down(e)) return;
  set_health(false, std::string("postgres: ") + e.what());
  next_probe_ = std::chrono::steady_clock::now() + recovery_probe_period;
}

void postgres_store::worker::probe_recovery() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_probe_) return;
  next_probe_ = now + recovery_probe_period;
  try {
    if (!db_.ok() && !db_.reset()) return;
    db_.exec("DEALLOCATE ALL");  // a connection that stayed up keeps its statements
    prepare();
    set_health(true, {});
    spdlog::info("store: postgres reachable again");
  } catch (const pg_error&) {
  }
}

void postgres_store::worker::set_health(bool up, std::string reason) {
  std::lock_guard lock(health_mutex_);
  health_.up = up;
  health_.reason = std::move(reason);
}

}  // namespace parley::store
