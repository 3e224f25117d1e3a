// churn: each of N loops connects, waits for the welcome, sends a close frame, waits for the
// server to close the TCP connection (so TIME_WAIT lands on the server, not on our ports), and
// starts again, for the warmup and the measured duration.

#include "latency_histogram.hpp"
#include "report.hpp"
#include "shard.hpp"
#include "workloads.hpp"

#include <thread>

namespace parley::bench {
namespace {

class churn_shard final : public shard {
 public:
  churn_shard(run_env& env, worker& w, std::size_t first, std::size_t count)
      : shard(env, w, first, count), started_(count) {}

  void post_start(std::int64_t m0, std::int64_t m1) {
    worker_.post([=, this] {
      m0_ = m0, m1_ = m1;
      running_ = true;
      for (std::size_t i = 0; i < size(); ++i)
        reopen(i);
    });
  }
  void post_stop() {
    worker_.post([this] { running_ = false; });
  }

  solo_counter cycles, failures, in_progress;
  latency_histogram handshake;  // connect start to welcome, measured cycles only
  std::uint64_t error_frames = 0;
  std::string first_error;

 private:
  void reopen(std::size_t i) {
    if (!running_) return;
    started_[i] = now_ns();
    conn(i).open(env_.source_for(first_ + i + opens_++));
  }
  void welcomed(client_connection& c) override {
    std::int64_t const now = now_ns();
    if (now >= m0_ && now < m1_) handshake.record(now - started_[c.index() - first_]);
    c.send_close();
  }
  void on_text(client_connection&, std::string_view payload, std::size_t) override {
    ++error_frames;  // nothing but the welcome is expected
    if (first_error.empty()) first_error = std::string(payload.substr(0, 300));
  }
  void on_closed(client_connection& c, bool was_open, std::string_view reason) override {
    std::int64_t const now = now_ns();
    if (!was_open) {
      failures.add();
      if (first_error.empty()) first_error = std::string(reason);
    } else if (now >= m0_ && now < m1_) {
      cycles.add();
    }
    // Not from inside the connection's own handler: it is still unwinding.
    std::size_t const i = c.index() - first_;
    worker_.post([this, i] { reopen(i); });
  }

  std::vector<std::int64_t> started_;
  std::size_t opens_ = 0;
  bool running_ = false;
  std::int64_t m0_ = 0, m1_ = 0;
};

}  // namespace

int run_churn(bench_options const& o) {
  if (o.connections == 0) throw std::runtime_error("churn: --connections must be at least 1");
  run_env env(o);
  std::size_t const t = env.workers.size();
  std::vector<std::unique_ptr<churn_shard>> shards;
  for (std::size_t s = 0; s < t; ++s) {
    std::size_t const a = o.connections * s / t, b = o.connections * (s + 1) / t;
    shards.push_back(std::make_unique<churn_shard>(env, *env.workers[s], a, b - a));
  }
  env.start_workers();
  std::int64_t const m0 = now_ns() + static_cast<std::int64_t>(o.warmup * 1e9);
  std::int64_t const m1 = m0 + static_cast<std::int64_t>(o.duration * 1e9);
  for (auto& s : shards)
    s->post_start(m0, m1);
  std::this_thread::sleep_until(at_ns(m0));
  double const cpu0 = process_cpu_seconds(), scpu0 = server_cpu_seconds(o.server_pid);
  std::this_thread::sleep_until(at_ns(m1));
  double const cpu1 = process_cpu_seconds(), scpu1 = server_cpu_seconds(o.server_pid);
  for (auto& s : shards)
    s->post_stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let cycles in progress finish
  env.stop_workers();

  std::uint64_t cycles = 0, failures = 0, errors = 0;
  latency_histogram hs;
  std::string why;
  for (auto& s : shards) {
    cycles += s->cycles.get(), failures += s->failures.get(), errors += s->error_frames;
    hs.merge(s->handshake);
    if (why.empty()) why = s->first_error;
  }
  auto report = report_header(o);
  report["duration_s"] = o.duration;
  report["warmup_s"] = o.warmup;
  report["cycles"] = cycles;
  report["cycles_per_s"] = static_cast<double>(cycles) / o.duration;
  report["handshake_us"] = latency_json(hs);
  report["failures"] = failures;
  report["error_frames"] = errors;
  report["client_cpu"] = (cpu1 - cpu0) / o.duration;
  if (o.server_pid > 0) {
    report["server_cpu"] = scpu0 < 0 ? -1.0 : (scpu1 - scpu0) / o.duration;
    report["server_rss_bytes"] = server_rss_bytes(o.server_pid);
  }
  bool const ok = failures == 0 && errors == 0 && cycles > 0;
  report["ok"] = ok;
  if (!why.empty()) report["first_error"] = why;
  print_report(report, o.json);
  return ok ? 0 : 1;
}

}  // namespace parley::bench
