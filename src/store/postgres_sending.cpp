#include "parley/core/clock.hpp"
#include "postgres_worker.hpp"

namespace parley::store {

// ---- sending

// What the batch's messages need from the database before they are staged, in two queries:
// the live dedup entries of their (sender, cid) pairs, and how much waits for each recipient.
void postgres_store::worker::prefetch(std::vector<request>& taken) {
  std::vector<std::string_view> senders, cids, recipients;
  for (request& r : taken) {
    auto* send = std::get_if<send_request>(&r);
    if (!send) continue;
    recipients.push_back(send->message.to);
    if (!send->message.cid) continue;
    senders.push_back(send->from.who->id);
    cids.push_back(*send->message.cid);
  }
  if (recipients.empty()) return;
  try {
    if (!cids.empty()) earlier_ = find_earlier(senders, cids);
    pg_params p;
    p.text_array(recipients);
    pg_result counts = db_.run("count_pending", p);
    for (int i = 0; i < counts.rows(); ++i)
      waiting_[std::string(counts.text(i, 0))] = counts.integer(i, 1);
  } catch (const pg_error& e) {
    failed(e, "a dedup and inbox lookup");
  }
}

std::unordered_map<std::string, postgres_store::worker::earlier>
postgres_store::worker::find_earlier(const std::vector<std::string_view>& senders,
                                     const std::vector<std::string_view>& cids) {
  std::unordered_map<std::string, earlier> found;
  pg_params p;
  p.text_array(senders).text_array(cids).integer(dedup_cutoff_ms());
  pg_result rows = db_.run("find_earlier", p);
  for (int i = 0; i < rows.rows(); ++i) {
    earlier e{std::string(rows.text(i, 2)), rows.integer(i, 4), rows.integer(i, 3),
              rows.boolean(i, 5), rows.boolean(i, 6)};
    found.emplace(dedup_key(rows.text(i, 0), rows.text(i, 1)), std::move(e));
  }
  return found;
}

void postgres_store::worker::handle(send_request& r) {
  std::int64_t now_ms = core::unix_millis();
  const store_client& c = r.from;
  const std::string& sender = c.who->id;
  if (r.message.cid) {
    std::string key = dedup_key(sender, *r.message.cid);
    if (auto it = staged_cids_.find(key); it != staged_cids_.end()) {
      // A retry of a message in this very batch: acked after it, as a duplicate.
      stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      return after_commit([this, c, first = it->second](bool ok) {
        const staged& m = staged_[first];
        if (!ok) {
          reply_error(c, error_code::unavailable, m.message.cid, unavailable_text);
        } else {
          earlier e{std::string(m.mid.view()), m.seq, m.ts, true, m.recipient_online};
          if (m.raced) e = *m.raced;
          answer_duplicate(c, e, *m.message.cid);
        }
        done(c);
      });
    }
    if (auto it = earlier_.find(key); it != earlier_.end()) {
      stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
      // After the batch, so it follows the acks of what the connection sent before.
      return after_commit([this, c, e = it->second, cid = *r.message.cid](bool) {
        answer_duplicate(c, e, cid);
        done(c);
      });
    }
    staged_cids_.emplace(std::move(key), staged_.size());
  }
  const std::string& to = r.message.to;
  std::int64_t& waiting = waiting_[to];
  if (to != sender && waiting >= static_cast<std::int64_t>(config_.max_inbox_messages)) {
    if (r.message.cid) staged_cids_.erase(dedup_key(sender, *r.message.cid));
    auto cid = r.message.cid;
    return after_commit([c, cid, to, max = config_.max_inbox_messages](bool) {
      reply_error(c, error_code::inbox_full, cid,
                  "Client #" + to + " has " + std::to_string(max) + " undelivered messages", to);
      c.self->store_done();
    });
  }
  if (to != sender) ++waiting;
  stage(r, now_ms);
}

void postgres_store::worker::stage(send_request& r, std::int64_t now_ms) {
  steps_.emplace_back(staged_.size());
  staged_.push_back(
      {std::move(r.from), std::move(r.message), router_.next_message_id(), now_ms, false, 0, {}});
}

void postgres_store::worker::answer_duplicate(const store_client& c, const earlier& e,
                                              const std::string& cid) {
  if (!e.kept) return;  // removed by retention since: nothing to repeat
  reply(c, protocol::stored_ack_frame({cid, e.mid, e.seq, e.ts,
                                       e.delivered ? protocol::delivery_status::delivered
                                                   : protocol::delivery_status::stored,
                                       true}));
}

}  // namespace parley::store
