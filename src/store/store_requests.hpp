#pragma once
// Private to src/store: what both stores (SQLite's engine and PostgreSQL's) share: the requests
// queued to them, how answers reach a client, and the rules of protocol-v2 that do not depend on
// where the rows live (history's range, the frame of a stored message, a commit's hand-over).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "parley/core/message_store.hpp"
#include "parley/core/router.hpp"
#include "parley/protocol/server_frames.hpp"

namespace parley::store {

// How often a store that failed tries again (a write, a reconnect) to learn it is back.
inline constexpr auto recovery_probe_period = std::chrono::seconds(1);

using core::store_client;
using protocol::error_code;

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

inline const store_client& client_of(const request& r) {
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

inline void reply(const store_client& c, protocol::shared_frame frame) {
  c.self->deliver(std::move(frame));
}

inline protocol::shared_frame error_for(const std::optional<std::string>& cid, error_code code,
                                        std::string_view message,
                                        std::optional<std::string_view> to = {}) {
  std::optional<std::string_view> cid_view;
  if (cid) cid_view = *cid;
  return protocol::error_frame(code, cid_view, message, to);
}

inline void reply_error(const store_client& c, error_code code,
                        const std::optional<std::string>& cid, std::string_view message,
                        std::optional<std::string_view> to = {}) {
  reply(c, error_for(cid, code, message, to));
}

inline constexpr std::string_view unavailable_text =
    "the store is unavailable; retry with the same cid";

// The seqs a history request gets of a conversation whose kept messages are [first, last]
// (first = last + 1 when none is kept): [lo, hi] (empty when lo > hi), and whether more are
// kept beyond them in the direction asked.
struct seq_range {
  std::int64_t lo, hi;
  bool more;
};
seq_range history_range(const core::history_query& q, std::int64_t first, std::int64_t last);

// A stored message as the fields a frame needs.
struct stored_message {
  std::string_view from, to;
  std::int64_t seq;
  std::string_view mid;
  std::int64_t ts;
  bool binary;
  std::string_view body;  // the text, or the file's bytes
  std::optional<std::string_view> name, mime;
};
// The frame a live recipient (or a history reader) gets for it.
protocol::shared_frame stored_frame(const stored_message& m);

// A committed message handed over (protocol-v2): to the recipient's connections when it was
// online at commit, to the sender's other connections in any case. Returns its ack (null
// without a cid).
protocol::shared_frame hand_over(core::router& router, const core::member& from,
                                 const core::outgoing_message& msg, std::string_view mid,
                                 std::int64_t ts, std::int64_t seq, bool recipient_online);

// What follows a request that moved cursors, once their commit is over (ok: it succeeded),
// ending the request: an inbox push's `delivered` receipts to the peers, each (peer, highest
// seq pushed); a read's `read` receipt to its peer and read sync to the reader's other
// connections.
using delivered_receipts = std::vector<std::pair<std::string, std::int64_t>>;
std::function<void(bool ok)> after_inbox(core::router& router, store_client reader,
                                         delivered_receipts receipts);
std::function<void(bool ok)> after_read(core::router& router, store_client reader, std::string with,
                                        std::int64_t seq);
// Answers a read past the conversation's last seq (bad_request) and ends it.
void refuse_read_past(const read_request& r, std::int64_t last);

}  // namespace parley::store
