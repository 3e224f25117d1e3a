// relay: connections in pairs (i <-> i^1), each sending to its partner, closed loop (a window
// of messages in flight per sender) or open loop (an aggregate rate on a fixed schedule).
// Each message's text carries its sequence number and its send time (the intended time in
// open loop), so the receiver checks order and measures latency with no lookup. With --ack
// the cid carries the same two numbers, so the sender measures send -> ack (what a durable
// sender waits for) the same way, and the ack, not the relayed copy, frees the window.

#include "json_scan.hpp"
#include "latency_histogram.hpp"
#include "relay_stream.hpp"
#include "reply_tally.hpp"
#include "report.hpp"
#include "shard.hpp"
#include "store_metrics.hpp"
#include "workloads.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstring>
#include <iostream>
#include <thread>

namespace parley::bench {
namespace {

constexpr std::size_t digits = 16;  // width of the sequence number and of the time
constexpr std::size_t time_offset = digits + 1;
constexpr std::size_t min_text = 2 * digits + 2;

// A sender's prebuilt message; only the digits change from one send to the next.
struct message_template {
  std::string bytes;
  std::size_t text_at = 0;
  std::size_t cid_at = 0;  // 0: no cid
};

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

struct relay_counts {
  std::uint64_t duplicated = 0, reordered = 0, stale = 0, malformed = 0;
  std::uint64_t error_frames = 0, other_frames = 0, acks = 0, acks_out_of_order = 0, skipped = 0;
  std::uint64_t window_messages = 0, window_bytes = 0, window_acks = 0;
};

class relay_shard final : public shard {
 public:
  relay_shard(run_env& env, worker& w, std::size_t first, std::size_t count)
      : shard(env, w, first, count), streams_(count), timer_(w.context()) {
    for (std::size_t i = 0; i < count; ++i)
      templates_.push_back(make_template(first + (i ^ 1)));
  }

  void post_start(std::int64_t t0, std::int64_t m0, std::int64_t m1, std::size_t total_senders) {
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

  void post_stop() {
    worker_.post([this] {
      sending_ = false;
      timer_.cancel();
    });
  }

  solo_counter sent, unique;
  solo_counter answered;  // with --ack: acks and refusals (error frames naming a message)
  solo_counter refused;   // ... of which refusals
  relay_counts counts;
  reply_tally replies;
  latency_histogram latency, send_lag, ack_latency;
  std::string first_error;

  // After the worker stopped: lost and undelivered messages over every stream.
  relay_stream::end_counts at_end() const {
    relay_stream::end_counts sum;
    for (relay_stream const& s : streams_) {
      auto const e = s.at_end();
      sum.lost += e.lost, sum.undelivered += e.undelivered;
    }
    return sum;
  }

 private:
  message_template make_template(std::size_t partner) const {
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
  void send_one(std::size_t i, std::int64_t stamp_ns) {
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
  void tick() {
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

  bool in_window(std::int64_t now) const { return now >= m0_ && now < m1_; }

  void on_text(client_connection& c, std::string_view payload, std::size_t wire_bytes) override {
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
  void on_message(std::size_t i, std::string_view payload, std::size_t wire_bytes) {
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
  void free_slot(std::size_t i, std::int64_t now) {
    if (streams_[i].inflight > 0) --streams_[i].inflight;
    if (sending_ && env_.opts.rate <= 0) send_one(i, now);
  }

  // Acks come in the order of their messages; a refused message between two acks is no
  // disorder (its error may even come first), a repeated or earlier cid is.
  void on_ack(std::size_t i, std::string_view payload) {
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
  void on_error(std::size_t i, std::string_view payload) {
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

  std::vector<relay_stream> streams_;  // [i]: the messages connection first_ + i sends
  std::vector<message_template> templates_;
  boost::asio::steady_timer timer_;
  bool sending_ = false;
  std::int64_t t0_ = 0, m0_ = 0, m1_ = 0;
  double interval_ns_ = 0;
  std::uint64_t k_ = 0;
};

std::int64_t seconds_ns(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

using shard_list = std::vector<std::unique_ptr<relay_shard>>;

template <class Member>
std::uint64_t sum(shard_list const& shards, Member member) {
  std::uint64_t n = 0;
  for (auto const& s : shards)
    n += ((*s).*member).get();
  return n;
}

// Everything the shards counted, summed after the workers stopped.
struct relay_totals {
  relay_counts c;
  reply_tally replies;
  latency_histogram latency, send_lag, ack_latency;
  std::uint64_t sent = 0, received = 0, refused = 0, lost = 0, undelivered = 0, unexpected = 0;
  std::string first_error;
};

relay_totals collect(shard_list const& shards) {
  relay_totals t;
  relay_counts& c = t.c;
  for (auto const& s : shards) {
    auto const end = s->at_end();
    t.lost += end.lost, t.undelivered += end.undelivered;
    auto const& k = s->counts;
    c.duplicated += k.duplicated, c.reordered += k.reordered, c.stale += k.stale,
        c.malformed += k.malformed;
    c.error_frames += k.error_frames, c.other_frames += k.other_frames, c.acks += k.acks;
    c.acks_out_of_order += k.acks_out_of_order, c.skipped += k.skipped;
    c.window_messages += k.window_messages, c.window_bytes += k.window_bytes;
    c.window_acks += k.window_acks;
    t.replies.merge(s->replies);
    t.latency.merge(s->latency);
    t.send_lag.merge(s->send_lag);
    t.ack_latency.merge(s->ack_latency);
    t.unexpected += s->unexpected.get();
    if (t.first_error.empty())
      t.first_error = !s->first_error.empty() ? s->first_error : s->first_failure;
  }
  t.sent = sum(shards, &relay_shard::sent);
  t.received = sum(shards, &relay_shard::unique);
  t.refused = sum(shards, &relay_shard::refused);
  return t;
}

// Adds the results to `report`; returns whether the server behaved (messages in flight when
// the drain ran out are reported, not held against it; error frames are).
bool add_results(boost::json::object& report, relay_totals const& t, bench_options const& o) {
  relay_counts const& c = t.c;
  std::uint64_t const ack_missing =
      o.ack && t.undelivered == 0 ? t.sent - std::min(t.sent, c.acks + t.refused) : 0;
  report["msgs_per_s"] = static_cast<double>(c.window_messages) / o.duration;
  report["bytes_per_s"] = static_cast<double>(c.window_bytes) / o.duration;
  report["latency_us"] = latency_json(t.latency);
  if (o.ack) {
    report["acked_msgs_per_s"] = static_cast<double>(c.window_acks) / o.duration;
    report["ack_latency_us"] = latency_json(t.ack_latency);
  }
  if (o.rate > 0) {
    report["send_lag_us"] = latency_json(t.send_lag);
    report["skipped"] = c.skipped;
  }
  report["sent"] = t.sent;
  report["received"] = t.received;
  report["lost"] = t.lost;
  report["undelivered_at_end"] = t.undelivered;
  report["duplicated"] = c.duplicated;
  report["reordered"] = c.reordered;
  report["too_late_to_tell"] = c.stale;
  report["malformed"] = c.malformed;
  report["error_frames"] = c.error_frames;
  report["errors_by_code"] = t.replies.errors_by_code();
  if (o.ack) {
    report["acks"] = c.acks;
    report["acks_by_status"] = t.replies.acks_by_status();
    report["acks_duplicate"] = t.replies.duplicate_acks();
    report["acks_out_of_order"] = c.acks_out_of_order;
    report["acks_missing"] = ack_missing;
    report["refused"] = t.refused;
  }
  report["unexpected_closes"] = t.unexpected;
  return t.lost == 0 && c.duplicated == 0 && c.reordered == 0 && c.stale == 0 && c.malformed == 0 &&
         c.error_frames == 0 && t.unexpected == 0 && c.acks_out_of_order == 0 && ack_missing == 0 &&
         t.replies.duplicate_acks() == 0;
}

// Opens every connection; on failure prints the report and returns false.
bool connect_all(run_env& env, shard_list const& shards, boost::json::object& report) {
  bench_options const& o = env.opts;
  for (auto& s : shards)
    s->post_connect_all(o.connect_concurrency / shards.size() + 1);
  bool const connected = wait_until(
      [&] { return sum(shards, &shard::opened) + sum(shards, &shard::failed) >= o.connections; },
      deadline_after(o.connect_timeout));
  if (connected && sum(shards, &shard::failed) == 0) return true;
  for (auto& s : shards)
    s->post_close_all();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  env.stop_workers();
  std::string why = "connect phase timed out";
  for (auto& s : shards)
    if (!s->first_failure.empty()) why = s->first_failure;
  report["ok"] = false;
  report["opened"] = sum(shards, &shard::opened);
  report["failure"] = why;
  print_report(report, o.json);
  return false;
}

}  // namespace

int run_relay(bench_options const& o) {
  if (o.connections < 2 || o.connections % 2)
    throw std::runtime_error("relay: --connections must be even and >= 2");
  if (o.size < min_text)
    throw std::runtime_error("relay: --size must be at least " + std::to_string(min_text));
  if (o.window == 0) throw std::runtime_error("relay: --window must be at least 1");
  run_env env(o);
  std::optional<http_url> metrics;  // parsed first: a bad URL stops the run before it starts
  if (o.store_metrics || !o.metrics_url.empty())
    metrics = parse_http_url(
        !o.metrics_url.empty() ? o.metrics_url : "http://" + env.target.host_header + "/metrics");
  std::size_t const pairs = o.connections / 2, t = env.workers.size();
  shard_list shards;
  for (std::size_t s = 0; s < t; ++s) {  // whole pairs per shard: a pair never crosses threads
    std::size_t const p0 = pairs * s / t, p1 = pairs * (s + 1) / t;
    shards.push_back(std::make_unique<relay_shard>(env, *env.workers[s], 2 * p0, 2 * (p1 - p0)));
  }
  auto report = report_header(o);
  report["window"] = o.rate > 0 ? 0 : o.window;
  report["rate"] = o.rate;
  report["size"] = o.size;
  report["ack"] = o.ack;
  report["duration_s"] = o.duration;
  report["warmup_s"] = o.warmup;
  env.start_workers();
  if (!connect_all(env, shards, report)) return 2;

  std::int64_t const t0 = now_ns() + 1'000'000, m0 = t0 + seconds_ns(o.warmup),
                     m1 = m0 + seconds_ns(o.duration);
  for (auto& s : shards)
    s->post_start(t0, m0, m1, o.connections);
  std::this_thread::sleep_until(at_ns(m0));
  double const cpu0 = process_cpu_seconds(), scpu0 = server_cpu_seconds(o.server_pid);
  store_sample const store0 = metrics ? scrape_store(*metrics) : store_sample{};
  std::this_thread::sleep_until(at_ns(m1));
  double const cpu1 = process_cpu_seconds(), scpu1 = server_cpu_seconds(o.server_pid);
  store_sample const store1 = metrics ? scrape_store(*metrics) : store_sample{};
  long long const rss = server_rss_bytes(o.server_pid);
  for (auto& s : shards)
    s->post_stop();
  // Every message arrived or was refused, and (with --ack) every one was answered.
  wait_until(
      [&] {
        std::uint64_t const sent = sum(shards, &relay_shard::sent);
        std::uint64_t const refused = sum(shards, &relay_shard::refused);
        return sum(shards, &relay_shard::unique) + refused >= sent &&
               (!o.ack || sum(shards, &relay_shard::answered) >= sent);
      },
      deadline_after(o.drain));
  for (auto& s : shards)
    s->post_close_all();
  wait_until(
      [&] { return sum(shards, &shard::closed) + sum(shards, &shard::failed) >= o.connections; },
      deadline_after(2));
  env.stop_workers();

  relay_totals const totals = collect(shards);
  bool const ok = add_results(report, totals, o);
  report["client_cpu"] = (cpu1 - cpu0) / o.duration;
  if (o.server_pid > 0) {
    report["server_cpu"] = scpu0 < 0 ? -1.0 : (scpu1 - scpu0) / o.duration;
    report["server_rss_bytes"] = rss;
  }
  if (metrics) add_store_rates(report, *metrics, store0, store1);
  report["ok"] = ok;
  if (!totals.first_error.empty()) report["first_error"] = totals.first_error;
  print_report(report, o.json);
  return ok ? 0 : 1;
}

}  // namespace parley::bench
