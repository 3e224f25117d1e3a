// relay: connections in pairs (i <-> i^1), each sending to its partner, closed loop (a window
// of messages in flight per sender) or open loop (an aggregate rate on a fixed schedule); the
// pairs are split over the workers (relay_shard). This file runs the phases (connect, warm up,
// measure, drain, close) and makes the report. With --ack the ack, not the relayed copy, frees
// a sender's place in the window, and send -> ack is timed: what a durable sender waits for.

#include "relay_shard.hpp"
#include "report.hpp"
#include "store_metrics.hpp"
#include "workloads.hpp"

#include <optional>
#include <thread>

namespace parley::bench {
namespace {

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
  if (o.size < relay_min_text)
    throw std::runtime_error("relay: --size must be at least " + std::to_string(relay_min_text));
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
