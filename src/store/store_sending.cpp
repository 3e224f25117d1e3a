#include "parley/core/clock.hpp"
#include "store_engine.hpp"

namespace parley::store {

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

protocol::shared_frame sqlite_store::engine::deliver(staged& m) {
  return hand_over(router_, *m.from.who, m.message, m.mid.view(), m.ts, m.seq, m.recipient_online);
}

}  // namespace parley::store
