// Each message's text is "<seq>.<time>.xxx…": a 16-digit sequence number and the send time in
// nanoseconds (the intended time in open loop), so the receiver checks order and measures
// latency with no lookup. With --ack the cid is "<seq>.<time>" too, so the sender times
// send -> ack (what a durable sender waits for) the same way.

#include "relay_shard.hpp"

#include "json_scan.hpp"

#include <cstring>
#include <optional>

namespace parley::bench {
namespace {

constexpr std::size_t digits = relay_digits;
constexpr std::size_t time_offset = digits + 1;

// "<seq>.<time>" at the start of a text or a cid: the sequence number and the stamp.
struct stamped {
  std::optional<std::uint64_t> seq, stamp;
};
stamped parse_stamped(std::string_view s) {
  stamped r;
  r.seq = parse_fixed_digits(s, digits);
  if (s.size() > time_offset) r.stamp = parse_fixed_digits(s.substr(time_offset), digits);
  return r;
}

}  // namespace

relay_shard::relay_shard(run_env& env, worker& w, std::size_t first, std::size_t count)
    : shard(env, w, first, count), streams_(count), timer_(w.context()) {
  for (std::size_t i = 0; i < count; ++i)
    templates_.push_back(make_template(first + (i ^ 1)));
}

void relay_shard::post_start(std::int64_t t0, std::int64_t m0, std::int64_t m1,
                             std::size_t total_senders) {
  worker_.post([=, this] {
    t0_ = t0, m0_ = m0, m1_ = m1;
    sending_ = true;
    if (env_.opts.rate <= 0) {
      std::int64_t const now = now_ns();
      for (std::size_t i = 0; i < streams_.size(); ++i)
        for (std::size_t k = 0; k < env_.opts.window; ++k)
          send_one(i, now);
      worker_.flush_dirty();
    } else {
      double const my_rate = env_.opts.rate * static_cast<double>(streams_.size()) /
                             static_cast<double>(total_senders);
      interval_ns_ = 1e9 / my_rate;
      tick();
    }
  });
}

void relay_shard::post_stop() {
  worker_.post([this] {
    sending_ = false;
    timer_.cancel();
  });
}

relay_stream::end_counts relay_shard::at_end() const {
  relay_stream::end_counts sum;
  for (relay_stream const& s : streams_) {
    auto const e = s.at_end();
    sum.lost += e.lost, sum.undelivered += e.undelivered;
  }
  return sum;
}

relay_shard::message_template relay_shard::make_template(std::size_t partner) const {
  message_template t;
  t.bytes = R"({"type":"msg","to":")" + env_.client_id(partner) + R"(","text":")";
  t.text_at = t.bytes.size();
  std::string text(env_.opts.size, 'x');
  text[digits] = text[time_offset + digits] = '.';
  t.bytes += text + "\"";
  if (env_.opts.ack) {
    t.bytes += R"(,"cid":")";
    t.cid_at = t.bytes.size();
    t.bytes += std::string(digits, '0') + "." + std::string(digits, '0') + "\"";
  }
  t.bytes += "}";
  return t;
}

// Queues sender i's next message stamped with `stamp_ns` (send or intended time).
void relay_shard::send_one(std::size_t i, std::int64_t stamp_ns) {
  message_template const& t = templates_[i];
  relay_stream& s = streams_[i];
  client_connection& c = conn(i);
  char* p = c.begin_text(t.bytes.size());
  std::memcpy(p, t.bytes.data(), t.bytes.size());
  write_fixed_digits(p + t.text_at, s.next_seq, digits);
  write_fixed_digits(p + t.text_at + time_offset, static_cast<std::uint64_t>(stamp_ns), digits);
  if (t.cid_at) {
    write_fixed_digits(p + t.cid_at, s.next_seq, digits);
    write_fixed_digits(p + t.cid_at + time_offset, static_cast<std::uint64_t>(stamp_ns), digits);
  }
  c.end_text(p, t.bytes.size());
  ++s.next_seq;
  ++s.inflight;
  sent.add();
}

// Open loop: sends every message whose intended time has come, then sleeps until the next.
void relay_shard::tick() {
  if (!sending_) return;
  std::int64_t const now = now_ns();
  std::int64_t due = 0;
  // Bounded per turn, so that a stalled client still reads between bursts.
  for (int n = 0; n < 100000; ++n) {
    due = t0_ + static_cast<std::int64_t>(static_cast<double>(k_) * interval_ns_);
    if (due > now) break;
    std::size_t const i = k_ % streams_.size();
    if (streams_[i].inflight >= env_.opts.max_inflight) {
      ++counts.skipped;
    } else {
      send_one(i, due);
      if (in_window(now)) send_lag.record(now - due);
    }
    ++k_;
  }
  worker_.flush_dirty();
  timer_.expires_at(at_ns(due));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void relay_shard::on_text(client_connection& c, std::string_view payload, std::size_t wire_bytes) {
  std::size_t const j = c.index() - first_;
  // Fast path: the servers measured here put "type" first in a relayed message.
  constexpr std::string_view msg_prefix = R"({"type":"msg",)";
  if (payload.starts_with(msg_prefix))
    return on_message(j ^ 1, payload.substr(msg_prefix.size()), wire_bytes);
  std::string_view const type = find_string_field(payload, "\"type\"");
  if (type == "msg") return on_message(j ^ 1, payload, wire_bytes);
  if (type == "ack") return on_ack(j, payload);
  if (type == "error") return on_error(j, payload);
  ++counts.other_frames;
}

// Sender i's message arrived at its partner. `payload` is the message, or its part after
// "type" (the text comes later).
void relay_shard::on_message(std::size_t i, std::string_view payload, std::size_t wire_bytes) {
  auto const [seq, stamp] = parse_stamped(find_string_field(payload, "\"text\""));
  if (!seq || !stamp) {
    ++counts.malformed;
    return;
  }
  switch (streams_[i].accept(*seq)) {
    case relay_stream::arrival::stale:
      ++counts.stale;
      return;
    case relay_stream::arrival::duplicated:
      ++counts.duplicated;
      return;
    case relay_stream::arrival::reordered:
      ++counts.reordered;
      break;
    case relay_stream::arrival::fresh:
      break;
  }
  unique.add();
  std::int64_t const now = now_ns();
  if (in_window(now)) {
    ++counts.window_messages;
    counts.window_bytes += wire_bytes;
    latency.record(now - static_cast<std::int64_t>(*stamp));
  }
  if (!env_.opts.ack) free_slot(i, now);  // with --ack the ack frees it
}

// Sender i's message was answered: one place in its window is free (closed loop: send the
// next one now).
void relay_shard::free_slot(std::size_t i, std::int64_t now) {
  if (streams_[i].inflight > 0) --streams_[i].inflight;
  if (sending_ && env_.opts.rate <= 0) send_one(i, now);
}

// Acks come in the order of their messages; a refused message between two acks is no
// disorder (its error may even come first), a repeated or earlier cid is.
void relay_shard::on_ack(std::size_t i, std::string_view payload) {
  ++counts.acks;
  replies.count_ack(payload);
  auto const [seq, stamp] = parse_stamped(find_string_field(payload, "\"cid\""));
  relay_stream& s = streams_[i];
  if (!seq || *seq < s.next_ack) {
    ++counts.acks_out_of_order;
  } else {
    s.next_ack = *seq + 1;
  }
  std::int64_t const now = now_ns();
  if (stamp && in_window(now)) {
    ++counts.window_acks;
    ack_latency.record(now - static_cast<std::int64_t>(*stamp));
  }
  answered.add();
  free_slot(i, now);
}

// An error frame on connection i. With --ack one that names a message of i (by its cid) is
// a refusal: that message will never arrive, and its place in the window is free.
void relay_shard::on_error(std::size_t i, std::string_view payload) {
  ++counts.error_frames;
  replies.count_error(payload);
  if (first_error.empty()) first_error = std::string(payload.substr(0, 300));
  if (!env_.opts.ack) return;
  auto const seq = parse_fixed_digits(find_string_field(payload, "\"cid\""), digits);
  relay_stream& s = streams_[i];
  if (!seq || *seq >= s.next_seq) return;
  s.refuse(*seq);
  refused.add();
  answered.add();
  free_slot(i, now_ns());
}

}  // namespace parley::bench
