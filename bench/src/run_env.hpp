#pragma once
// What every workload shares: the resolved target, the workers, the source addresses, the
// clock, and the measurements of the process and the server around a run.

#include "client_connection.hpp"
#include "options.hpp"
#include "worker.hpp"

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace parley::bench {

using steady = std::chrono::steady_clock;

// Nanoseconds since the start of the process's first run_env (cheap, monotonic).
std::int64_t now_ns();

struct run_env {
  explicit run_env(bench_options const& o);  // throws std::runtime_error on a bad setting

  bench_options opts;
  server_target target;                // --port's
  std::vector<server_target> targets;  // --port's, then --extra-ports'
  server_target const& target_for(std::size_t index) const {
    return targets[index % targets.size()];
  }
  std::unique_ptr<boost::asio::ssl::context> tls;  // wss only: shared by every connection
  std::vector<boost::asio::ip::address> sources;   // empty: let the kernel choose
  std::vector<std::unique_ptr<worker>> workers;

  std::string client_id(std::size_t index) const { return opts.id_prefix + std::to_string(index); }
  boost::asio::ip::address source_for(std::size_t index) const;
  void start_workers();
  void stop_workers();
};

// CPU seconds (user + system) this process has used.
double process_cpu_seconds();
// The server's resident set in bytes, or -1 when unreadable.
long long server_rss_bytes(int pid);
// The server's CPU seconds (user + system), or -1 when unreadable.
double server_cpu_seconds(int pid);

// The time point `seconds` from now.
inline steady::time_point deadline_after(double seconds) {
  return steady::now() +
         std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
}

// Sleeps in short steps until pred() or the deadline; returns pred()'s last value.
template <class Pred>
bool wait_until(Pred pred, steady::time_point deadline) {
  while (!pred()) {
    if (steady::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace parley::bench

namespace parley::bench {
// The steady-clock time point of now_ns() == ns.
steady::time_point at_ns(std::int64_t ns);
}  // namespace parley::bench
