#include <map>

#include "parley/protocol/utf8_validator.hpp"
#include "postgres_worker.hpp"

namespace parley::store {

// ---- reading and cursors

void postgres_store::worker::handle(inbox_request& r) {
  const store_client& c = r.to;
  const std::string& id = c.who->id;
  pg_params p;
  p.text(id).integer(static_cast<std::int64_t>(config_.inbox_push_max) + 1);
  pg_result rows = db_.run("inbox", p);
  auto count = std::min<std::size_t>(static_cast<std::size_t>(rows.rows()), config_.inbox_push_max);
  // The highest seq pushed per conversation (items ascend within one), and its peer.
  std::map<std::int64_t, std::pair<std::string, std::int64_t>> up_to;
  for (std::size_t i = 0; i < count; ++i) {
    int row = static_cast<int>(i);
    std::string_view a = rows.text(row, 1), b = rows.text(row, 2);
    reply(c, frame_of(rows, row, a, b, 3));
    up_to[rows.integer(row, 0)] = {std::string(a == id ? b : a), rows.integer(row, 3)};
  }
  reply(c, protocol::inbox_frame(count, rows.rows() > static_cast<int>(count)));
  delivered_receipts receipts;
  for (auto& [conversation, last] : up_to) {
    cursor_writes_.push_back({conversation, id, last.second, 0});
    receipts.push_back(std::move(last));
  }
  after_commit(after_inbox(router_, c, std::move(receipts)));
}

void postgres_store::worker::handle(read_request& r) {
  const store_client& c = r.reader;
  const std::string& id = c.who->id;
  auto [a, b] = conversation_key(id, r.with);
  pg_params p;
  p.text(a).text(b).text(id);
  pg_result in = db_.run("find_conversation", p);
  std::int64_t last = in.rows() ? in.integer(0, 1) : 0;
  if (r.seq > last) return refuse_read_past(r, last);
  if (!in.rows() || r.seq <= in.integer(0, 3)) return done(c);
  cursor_writes_.push_back({in.integer(0, 0), id, r.seq, r.seq});
  after_commit(after_read(router_, c, std::move(r.with), r.seq));
}

void postgres_store::worker::handle(history_request& r) {
  const store_client& c = r.asker;
  const core::history_query& q = r.query;
  auto [a, b] = conversation_key(c.who->id, q.with);
  pg_params p;
  p.text(a).text(b).text(c.who->id);
  pg_result in = db_.run("find_conversation", p);
  std::int64_t last = in.rows() ? in.integer(0, 1) : 0;
  std::int64_t first = in.rows() && !in.is_null(0, 2) ? in.integer(0, 2) : last + 1;
  if (!in.rows()) first = 1;
  auto [lo, hi, more] = history_range(q, first, last);
  std::vector<protocol::shared_frame> frames;
  if (in.rows() && lo <= hi) {
    pg_params range;
    range.integer(in.integer(0, 0)).integer(lo).integer(hi);
    pg_result rows = db_.run("message_range", range);
    for (int i = 0; i < rows.rows(); ++i)
      frames.push_back(frame_of(rows, i, a, b, 0));
  }
  for (auto& frame : frames)
    reply(c, std::move(frame));
  std::optional<std::string_view> cid;
  if (q.cid) cid = *q.cid;
  reply(c, protocol::history_frame(q.with, cid, frames.size(), more, first));
  done(c);
}

void postgres_store::worker::handle(conversations_request& r) {
  const store_client& c = r.asker;
  const std::string& id = c.who->id;
  pg_params p;
  p.text(id).real(r.query.before_ts).integer(r.query.limit + 1);
  pg_result rows = db_.run("list", p);
  bool more = rows.rows() > r.query.limit;
  std::vector<protocol::conversation_summary> items;
  for (int i = 0; i < rows.rows() && i < r.query.limit; ++i) {
    std::string_view a = rows.text(i, 0), b = rows.text(i, 1);
    protocol::conversation_summary s;
    s.with = a == id ? b : a;
    s.last_seq = rows.integer(i, 2);
    s.last_ts = rows.integer(i, 3);
    s.last_from = rows.boolean(i, 4) ? a : b;
    if (rows.integer(i, 5) == 0) {
      std::string text = rows.bytes(i, 6);
      s.last_text = std::string(protocol::utf8_prefix(text, 200));
    } else {
      if (auto name = rows.optional_text(i, 7)) s.last_name = std::string(*name);
      if (auto mime = rows.optional_text(i, 8)) s.last_mime = std::string(*mime);
    }
    s.read = rows.integer(i, 9);
    s.delivered = rows.integer(i, 10);
    s.peer_read = rows.integer(i, 11);
    s.peer_delivered = rows.integer(i, 12);
    s.unread = rows.integer(i, 13);
    items.push_back(std::move(s));
  }
  std::optional<std::string_view> cid;
  if (r.query.cid) cid = *r.query.cid;
  reply(c, protocol::conversations_frame(items, more, cid));
  done(c);
}

// The frame of the message in `row`, its columns from `first_col` on: seq, from_a, mid, ts,
// kind, body, name, mime; {a, b} its conversation.
protocol::shared_frame postgres_store::worker::frame_of(const pg_result& rows, int row,
                                                        std::string_view a, std::string_view b,
                                                        int first_col) {
  int k = first_col;
  bool from_a = rows.boolean(row, k + 1);
  std::string body = rows.bytes(row, k + 5);
  return stored_frame({from_a ? a : b, from_a ? b : a, rows.integer(row, k), rows.text(row, k + 2),
                       rows.integer(row, k + 3), rows.integer(row, k + 4) != 0, body,
                       rows.optional_text(row, k + 6), rows.optional_text(row, k + 7)});
}

}  // namespace parley::store
