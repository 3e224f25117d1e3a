#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>

#include "parley/core/clock.hpp"
#include "postgres_worker.hpp"

namespace parley::store {

namespace {

// A chunk of messages stored in one statement, each array holding one field of every message
// in conversation order: each conversation's seq bumped by its count under the row's lock (rows
// locked in (a, b) order), the rows numbered from there in the order given (their ids too: the
// inbox and the conversation list sort by them), their dedup entries
// (a live one is never overwritten: then the last column is false and the batch runs again),
// the senders' delivered cursors (and the recipients' when they were online at commit, which
// also passes what waited for them), or the recipients' pending entries. One row per message:
// its place in the arrays (from 1) and its seq.
//  $1 a  $2 b  $3 from_a  $4 mid  $5 ts  $6 cid  $7 kind  $8 body  $9 name  $10 mime
//  $11 recipient online  $12 dedup cutoff (ms)
constexpr std::string_view insert_messages_sql = R"sql(
WITH input AS (
  SELECT *, nextval('messages_id_seq') AS id FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[],
                       $6::text[], $7::smallint[], $8::bytea[], $9::text[], $10::text[],
                       $11::boolean[])
    WITH ORDINALITY AS i(a, b, from_a, mid, ts, cid, kind, body, name, mime, online, ord)),
counts AS (SELECT a, b, count(*) AS n FROM input GROUP BY a, b),
c AS (
  INSERT INTO conversations AS t(a, b, last_seq) SELECT a, b, n FROM counts ORDER BY a, b
  ON CONFLICT (a, b) DO UPDATE SET last_seq = t.last_seq + excluded.last_seq
  RETURNING id, a, b, last_seq),
numbered AS (
  SELECT i.*, c.id AS conversation,
         c.last_seq - k.n + row_number() OVER (PARTITION BY i.a, i.b ORDER BY i.ord) AS seq,
         CASE WHEN i.from_a THEN i.a ELSE i.b END AS sender,
         CASE WHEN i.from_a THEN i.b ELSE i.a END AS recipient
  FROM input i JOIN c ON c.a = i.a AND c.b = i.b JOIN counts k ON k.a = i.a AND k.b = i.b),
m AS (
  INSERT INTO messages(id, conversation, seq, from_a, mid, ts, cid, kind, body, name, mime)
  SELECT id, conversation, seq, from_a, mid, ts, cid, kind, body, name, mime FROM numbered),
d AS (
  INSERT INTO dedup AS t(sender, cid, ts, conversation, seq)
  SELECT sender, cid, ts, conversation, seq FROM numbered WHERE cid IS NOT NULL
  ON CONFLICT (sender, cid) DO UPDATE
    SET ts = excluded.ts, conversation = excluded.conversation, seq = excluded.seq
    WHERE t.ts < $12
  RETURNING 1),
k AS (
  INSERT INTO cursors AS t(conversation, participant, delivered, read)
  SELECT conversation, p, max(seq), 0 FROM (
    SELECT conversation, sender AS p, seq FROM numbered
    UNION ALL
    SELECT conversation, recipient, seq FROM numbered WHERE online AND sender <> recipient) x
  GROUP BY conversation, p ORDER BY conversation, p
  ON CONFLICT (conversation, participant) DO UPDATE
    SET delivered = greatest(t.delivered, excluded.delivered)),
w AS (
  INSERT INTO pending(recipient, message, conversation, seq)
  SELECT recipient, id, conversation, seq FROM numbered WHERE NOT online AND sender <> recipient),
x AS (
  DELETE FROM pending p USING (
    SELECT conversation, recipient, max(seq) AS seq FROM numbered
    WHERE online AND sender <> recipient GROUP BY conversation, recipient) o
  WHERE p.recipient = o.recipient AND p.conversation = o.conversation AND p.seq < o.seq)
SELECT ord, seq,
       (SELECT count(*) FROM d) = (SELECT count(*) FROM input WHERE cid IS NOT NULL)
FROM numbered)sql";

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
  db_.prepare("insert_messages", insert_messages_sql);
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
namespace {

std::pair<std::string_view, std::string_view> key_of(const auto& staged) {
  return conversation_key(staged.from.who->id, staged.message.to);
}

}  // namespace

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
  std::stable_sort(order.begin(), order.end(), [this](std::size_t i, std::size_t j) {
    return key_of(staged_[i]) < key_of(staged_[j]);
  });
  std::sort(cursor_writes_.begin(), cursor_writes_.end(), [](const auto& x, const auto& y) {
    return std::tie(x.conversation, x.participant) < std::tie(y.conversation, y.participant);
  });
  auto chunks = chunked(order);
  db_.begin_pipeline();
  bool fresh = true;
  try {
    db_.send_sql("BEGIN");
    for (auto [first, last] : chunks)
      send_messages(std::span(order).subspan(first, last - first));
    for (const cursor_write& w : cursor_writes_) {
      pg_params p;
      p.integer(w.conversation).text(w.participant).integer(w.delivered).integer(w.read);
      db_.send("advance_cursor", p);
    }
    db_.sync();
    db_.next_result();
    for (auto [first, last] : chunks) {
      pg_result r = db_.next_result();
      for (int row = 0; row < r.rows(); ++row) {
        staged_[order[first + static_cast<std::size_t>(r.integer(row, 0)) - 1]].seq =
            r.integer(row, 1);
        fresh = fresh && r.boolean(row, 2);
      }
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

// [first, last) ranges of `order`, each at most max_statement_body_bytes of bodies (or one
// message), so that no statement's parameters grow past it.
std::vector<std::pair<std::size_t, std::size_t>> postgres_store::worker::chunked(
    const std::vector<std::size_t>& order) const {
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  std::size_t first = 0, bytes = 0;
  for (std::size_t k = 0; k < order.size(); ++k) {
    std::size_t size = staged_[order[k]].message.body.size();
    if (k > first && bytes + size > max_statement_body_bytes) {
      chunks.emplace_back(first, k);
      first = k;
      bytes = 0;
    }
    bytes += size;
  }
  if (first < order.size()) chunks.emplace_back(first, order.size());
  return chunks;
}

void postgres_store::worker::send_messages(std::span<const std::size_t> chunk) {
  pg_array a, b, from_a, mid, ts, cid, kind, body, name, mime, online;
  for (std::size_t i : chunk) {
    const staged& m = staged_[i];
    auto [x, y] = key_of(m);
    a.text(x);
    b.text(y);
    from_a.boolean(x == m.from.who->id);
    mid.text(m.mid.view());
    ts.integer(m.ts);
    cid.optional_text(m.message.cid);
    kind.integer(m.message.binary ? 1 : 0);
    body.bytes(m.message.body);
    name.optional_text(m.message.name);
    mime.optional_text(m.message.mime);
    online.boolean(m.recipient_online);
  }
  pg_params p;
  for (pg_array* field : {&a, &b, &from_a, &mid, &ts, &cid, &kind, &body, &name, &mime, &online})
    p.array(std::move(*field));
  p.integer(dedup_cutoff_ms());
  db_.send("insert_messages", p);
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
      db_.exec("WITH gone AS (DELETE FROM messages WHERE ts <= " + std::to_string(cutoff) +
               " RETURNING id) DELETE FROM pending WHERE message IN (SELECT id FROM gone)");
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
