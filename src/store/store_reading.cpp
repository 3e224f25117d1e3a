#include <algorithm>

#include "parley/protocol/utf8_validator.hpp"
#include "store_engine.hpp"

namespace parley::store {

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
  delivered_receipts receipts;
  for (auto [in, seq] : up_to) {
    if (!index_.advance_delivered(*in, id, seq)) continue;
    mark_cursor(*in, id);
    receipts.emplace_back(in->peer_of(id), seq);
  }
  after_commit(after_inbox(router_, c, std::move(receipts)));
}

void sqlite_store::engine::handle(read_request& r) {
  const store_client& c = r.reader;
  const std::string& id = c.who->id;
  conversation* in = index_.find(id, r.with);
  std::int64_t last = in ? in->last_seq : 0;
  if (r.seq > last) return refuse_read_past(r, last);
  if (!in || !index_.advance_read(*in, id, r.seq)) return done(c);
  mark_cursor(*in, id);
  after_commit(after_read(router_, c, std::move(r.with), r.seq));
}

void sqlite_store::engine::handle(history_request& r) {
  const store_client& c = r.asker;
  const core::history_query& q = r.query;
  conversation* in = index_.find(c.who->id, q.with);
  std::int64_t first = in ? in->first_seq : 1;
  std::int64_t last = in ? in->last_seq : 0;
  if (in && in->entries.empty()) first = last + 1;
  auto [lo, hi, more] = history_range(q, first, last);
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
    auto name = select_message_.optional_text(7);
    auto mime = select_message_.optional_text(8);
    std::optional<std::string_view> name_view, mime_view;
    if (name) name_view = *name;
    if (mime) mime_view = *mime;
    frame = stored_frame({from, to, seq, select_message_.text(3), select_message_.integer(4),
                          select_message_.integer(5) != 0, select_message_.text(6), name_view,
                          mime_view});
  }
  select_message_.reset();
  return frame;
}

void sqlite_store::engine::mark_cursor(conversation& c, std::string_view participant) {
  cursor_writes_.push_back({&c, std::string(participant)});
}

}  // namespace parley::store
