#include "store_requests.hpp"

#include <algorithm>

namespace parley::store {

seq_range history_range(const core::history_query& q, std::int64_t first, std::int64_t last) {
  seq_range r{};
  if (q.after) {
    r.lo = std::max(*q.after + 1, first);
    r.hi = std::min(last, r.lo + q.limit - 1);
    r.more = r.hi < last;
  } else {
    r.hi = std::min(last, q.before ? *q.before - 1 : last);
    r.lo = std::max(first, r.hi - q.limit + 1);
    r.more = r.lo > first && r.hi >= first;
  }
  return r;
}

protocol::shared_frame stored_frame(const stored_message& m) {
  if (!m.binary) return protocol::chat_message_frame(m.from, m.to, m.body, m.mid, m.ts, m.seq);
  return protocol::file_frame({m.from, m.to, m.name, m.mime, m.mid, m.ts, m.seq}, m.body);
}

protocol::shared_frame hand_over(core::router& router, const core::member& from,
                                 const core::outgoing_message& msg, std::string_view mid,
                                 std::int64_t ts, std::int64_t seq, bool recipient_online) {
  std::optional<std::string_view> name, mime;
  if (msg.name) name = *msg.name;
  if (msg.mime) mime = *msg.mime;
  protocol::shared_frame frame =
      stored_frame({from.id, msg.to, seq, mid, ts, msg.binary, msg.body, name, mime});
  // A recipient offline at commit gets it through its inbox, even if it has connected since.
  if (recipient_online) {
    router.route_stored(from, msg.to, frame);
  } else {
    router.notify_others(from, frame);
  }
  if (!msg.cid) return nullptr;
  return protocol::stored_ack_frame(
      {*msg.cid, mid, seq, ts,
       recipient_online ? protocol::delivery_status::delivered : protocol::delivery_status::stored,
       false});
}

std::function<void(bool ok)> after_inbox(core::router& router, store_client reader,
                                         delivered_receipts receipts) {
  return [&router, c = std::move(reader), receipts = std::move(receipts)](bool ok) {
    if (ok) {
      for (const auto& [peer, seq] : receipts)
        router.notify(peer,
                      protocol::receipt_frame(c.who->id, seq, protocol::receipt_kind::delivered));
    }
    c.self->store_done();
  };
}

std::function<void(bool ok)> after_read(core::router& router, store_client reader, std::string with,
                                        std::int64_t seq) {
  return [&router, c = std::move(reader), with = std::move(with), seq](bool ok) {
    if (ok) {
      router.notify(with, protocol::receipt_frame(c.who->id, seq, protocol::receipt_kind::read));
      router.notify_others(*c.who, protocol::read_sync_frame(with, seq));
    }
    c.self->store_done();
  };
}

void refuse_read_past(const read_request& r, std::int64_t last) {
  reply_error(r.reader, error_code::bad_request, r.cid,
              "seq " + std::to_string(r.seq) + " is past the conversation's last (" +
                  std::to_string(last) + ")");
  r.reader.self->store_done();
}

}  // namespace parley::store
