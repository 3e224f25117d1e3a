// idle: opens N connections (a bounded number at once), reports the connect rate up to the
// last welcome and the server's resident memory per connection, then keeps them open for
// --hold seconds (answering the server's pings) and closes them.

#include "report.hpp"
#include "shard.hpp"
#include "workloads.hpp"

#include <algorithm>
#include <thread>

namespace parley::bench {
namespace {

class idle_shard final : public shard {
 public:
  using shard::shard;
  std::int64_t last_welcome_ns = 0;  // read after the connect phase (the atomics order it)
  std::uint64_t frames = 0;

 private:
  void welcomed(client_connection&) override { last_welcome_ns = now_ns(); }
  void on_text(client_connection&, std::string_view, std::size_t) override { ++frames; }
};

}  // namespace

int run_idle(bench_options const& o) {
  run_env env(o);
  std::size_t const t = env.workers.size();
  std::vector<std::unique_ptr<idle_shard>> shards;
  for (std::size_t s = 0; s < t; ++s) {
    std::size_t const a = o.connections * s / t, b = o.connections * (s + 1) / t;
    shards.push_back(std::make_unique<idle_shard>(env, *env.workers[s], a, b - a));
  }
  auto sum = [&](auto member) {
    std::uint64_t n = 0;
    for (auto& s : shards)
      n += ((*s).*member).get();
    return n;
  };

  long long const rss0 = server_rss_bytes(o.server_pid);
  env.start_workers();
  double const cpu0 = process_cpu_seconds(), scpu0 = server_cpu_seconds(o.server_pid);
  std::int64_t const start = now_ns();
  for (auto& s : shards)
    s->post_connect_all(o.connect_concurrency / t + 1);
  bool const done =
      wait_until([&] { return sum(&shard::opened) + sum(&shard::failed) >= o.connections; },
                 deadline_after(o.connect_timeout));
  double const cpu1 = process_cpu_seconds(), scpu1 = server_cpu_seconds(o.server_pid);
  std::int64_t last = start;
  for (auto& s : shards)
    last = std::max(last, s->last_welcome_ns);
  std::uint64_t const opened = sum(&shard::opened);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
  long long const rss1 = server_rss_bytes(o.server_pid);
  if (o.hold > 0) std::this_thread::sleep_for(std::chrono::duration<double>(o.hold));
  std::uint64_t const unexpected = sum(&shard::unexpected);
  for (auto& s : shards)
    s->post_close_all();
  wait_until([&] { return sum(&shard::closed) + sum(&shard::failed) >= o.connections; },
             deadline_after(5));
  env.stop_workers();

  double const secs = static_cast<double>(last - start) / 1e9;
  auto report = report_header(o);
  report["opened"] = opened;
  report["failed"] = sum(&shard::failed);
  report["connect_seconds"] = secs;
  report["connects_per_s"] = secs > 0 ? static_cast<double>(opened) / secs : 0.0;
  report["client_cpu"] = secs > 0 ? (cpu1 - cpu0) / secs : 0.0;
  if (o.server_pid > 0) {
    report["server_cpu"] = secs > 0 && scpu0 >= 0 ? (scpu1 - scpu0) / secs : -1.0;
    report["server_rss_before_bytes"] = rss0;
    report["server_rss_after_bytes"] = rss1;
    report["server_rss_per_connection_bytes"] =
        opened > 0 && rss0 >= 0 && rss1 >= 0
            ? static_cast<double>(rss1 - rss0) / static_cast<double>(opened)
            : -1.0;
  }
  report["hold_s"] = o.hold;
  report["unexpected_closes"] = unexpected;
  bool const ok = done && opened == o.connections && unexpected == 0;
  report["ok"] = ok;
  std::string why;
  for (auto& s : shards)
    if (why.empty()) why = s->first_failure;
  if (!why.empty()) report["first_error"] = why;
  print_report(report, o.json);
  return ok ? 0 : (opened == 0 ? 2 : 1);
}

}  // namespace parley::bench
