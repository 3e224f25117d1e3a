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

// The connections open in two equal waves, the server's RSS read before, between and after
// them: the growth over both waves per connection is what the server holds for them plus what
// its first handshakes touched once (code pages, tables: a fixed cost); the second wave's
// growth per connection is the marginal cost of one more idle connection.
int run_idle(bench_options const& o) {
  run_env env(o);
  std::size_t const t = env.workers.size();
  std::size_t const half = o.connections / 2;
  std::size_t const first_of[2] = {0, half}, size_of[2] = {half, o.connections - half};
  std::vector<std::unique_ptr<idle_shard>> waves[2];
  for (std::size_t s = 0; s < t; ++s) {
    for (std::size_t w = 0; w < 2; ++w) {
      std::size_t const a = first_of[w] + size_of[w] * s / t;
      std::size_t const b = first_of[w] + size_of[w] * (s + 1) / t;
      waves[w].push_back(std::make_unique<idle_shard>(env, *env.workers[s], a, b - a));
    }
  }
  auto wave_sum = [&](std::size_t w, auto member) {
    std::uint64_t n = 0;
    for (auto& s : waves[w])
      n += ((*s).*member).get();
    return n;
  };
  auto sum = [&](auto member) { return wave_sum(0, member) + wave_sum(1, member); };

  long long const rss0 = server_rss_bytes(o.server_pid);
  long long rss_between = -1;
  env.start_workers();
  double cpu = 0, scpu = 0, secs = 0;
  bool done = true;
  for (std::size_t w = 0; w < 2; ++w) {
    double const cpu0 = process_cpu_seconds(), scpu0 = server_cpu_seconds(o.server_pid);
    std::int64_t const start = now_ns();
    for (auto& s : waves[w])
      s->post_connect_all(o.connect_concurrency / t + 1);
    std::size_t const wanted = size_of[w];
    done = wait_until(
               [&] { return wave_sum(w, &shard::opened) + wave_sum(w, &shard::failed) >= wanted; },
               deadline_after(o.connect_timeout)) &&
           done;
    cpu += process_cpu_seconds() - cpu0;
    scpu += scpu0 >= 0 ? server_cpu_seconds(o.server_pid) - scpu0 : 0;
    std::int64_t last = start;
    for (auto& s : waves[w])
      last = std::max(last, s->last_welcome_ns);
    secs += static_cast<double>(last - start) / 1e9;
    std::this_thread::sleep_for(std::chrono::duration<double>(o.settle));
    if (w == 0) rss_between = server_rss_bytes(o.server_pid);
  }
  std::uint64_t const opened = sum(&shard::opened);
  std::uint64_t const opened_second = wave_sum(1, &shard::opened);
  long long const rss1 = server_rss_bytes(o.server_pid);
  if (o.hold > 0) std::this_thread::sleep_for(std::chrono::duration<double>(o.hold));
  std::uint64_t const unexpected = sum(&shard::unexpected);
  for (auto& wave : waves)
    for (auto& s : wave)
      s->post_close_all();
  wait_until([&] { return sum(&shard::closed) + sum(&shard::failed) >= o.connections; },
             deadline_after(5));
  env.stop_workers();

  auto per_connection = [](long long before, long long after, std::uint64_t n) {
    return n > 0 && before >= 0 && after >= 0
               ? static_cast<double>(after - before) / static_cast<double>(n)
               : -1.0;
  };
  auto report = report_header(o);
  report["opened"] = opened;
  report["failed"] = sum(&shard::failed);
  report["connect_seconds"] = secs;
  report["connects_per_s"] = secs > 0 ? static_cast<double>(opened) / secs : 0.0;
  report["client_cpu"] = secs > 0 ? cpu / secs : 0.0;
  if (o.server_pid > 0) {
    report["server_cpu"] = secs > 0 ? scpu / secs : -1.0;
    report["server_rss_before_bytes"] = rss0;
    report["server_rss_between_waves_bytes"] = rss_between;
    report["server_rss_after_bytes"] = rss1;
    report["server_rss_per_connection_bytes"] = per_connection(rss0, rss1, opened);
    report["server_rss_marginal_per_connection_bytes"] =
        per_connection(rss_between, rss1, opened_second);
  }
  report["hold_s"] = o.hold;
  report["unexpected_closes"] = unexpected;
  bool const ok = done && opened == o.connections && unexpected == 0;
  report["ok"] = ok;
  std::string why;
  for (auto& wave : waves)
    for (auto& s : wave)
      if (why.empty()) why = s->first_failure;
  if (!why.empty()) report["first_error"] = why;
  print_report(report, o.json);
  return ok ? 0 : (opened == 0 ? 2 : 1);
}

}  // namespace parley::bench
