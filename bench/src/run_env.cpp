#include "run_env.hpp"

#include "client_tls.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace parley::bench {
namespace net = boost::asio;

namespace {
steady::time_point const process_epoch = steady::now();

bool is_loopback(net::ip::address const& a) {
  return a.is_loopback();
}

net::ip::address parse_loopback(std::string const& text, char const* what) {
  boost::system::error_code ec;
  auto a = net::ip::make_address(text == "localhost" ? "127.0.0.1" : text, ec);
  if (ec) throw std::runtime_error(std::string(what) + ": not an IP address: " + text);
  if (!is_loopback(a))
    throw std::runtime_error(std::string(what) + ": only loopback addresses are allowed: " + text);
  return a;
}
}  // namespace

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - process_epoch)
      .count();
}

steady::time_point at_ns(std::int64_t ns) {
  return process_epoch + std::chrono::nanoseconds(ns);
}

run_env::run_env(bench_options const& o) : opts(o) {
  auto const host = parse_loopback(opts.host, "--host");
  target.endpoint = net::ip::tcp::endpoint(host, opts.port);
  // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on "literal" + string.
  std::string& h = target.host_header;
  h.append(host.is_v6() ? "[" : "").append(host.to_string()).append(host.is_v6() ? "]:" : ":");
  h.append(std::to_string(opts.port));
  if (!opts.tls && (!opts.tls_ca.empty() || opts.insecure))
    throw std::runtime_error("--tls-ca and --insecure need --url wss://...");
  if (opts.tls) {
    tls = make_client_tls(opts, host);
    target.tls = tls.get();
  }
  targets.push_back(target);
  for (std::uint16_t port : opts.extra_ports) {
    server_target more = target;
    more.endpoint.port(port);
    more.host_header = h.substr(0, h.rfind(':') + 1) + std::to_string(port);
    targets.push_back(more);
  }
  if (opts.tls && opts.store_metrics && opts.metrics_url.empty())
    throw std::runtime_error("--store-metrics over wss: pass --metrics-url (plain http only)");
  for (auto const& s : opts.source_addresses) {
    auto a = parse_loopback(s, "--source-addresses");
    if (a.is_v6() != host.is_v6())
      throw std::runtime_error("--source-addresses: family differs from --host");
    sources.push_back(a);
  }
  if (opts.id_prefix.empty()) {
    static std::atomic<int> runs{0};
    opts.id_prefix.append("b").append(std::to_string(::getpid())).append("r");
    opts.id_prefix.append(std::to_string(runs++)).append("-");
  }
  if (opts.threads == 0) throw std::runtime_error("--threads must be at least 1");
  std::size_t const per = opts.connections / opts.threads + 2;
  for (std::size_t i = 0; i < opts.threads; ++i)
    workers.push_back(std::make_unique<worker>(per));
}

net::ip::address run_env::source_for(std::size_t index) const {
  if (sources.empty()) return {};
  return sources[index % sources.size()];
}

void run_env::start_workers() {
  for (auto& w : workers)
    w->start();
}

void run_env::stop_workers() {
  for (auto& w : workers)
    w->stop();
}

double process_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](timeval t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

long long server_rss_bytes(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  // Bounded by the file's length.
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) {
      std::istringstream ss(line.substr(6));
      long long kb = -1;
      ss >> kb;
      return kb < 0 ? -1 : kb * 1024;
    }
  }
  return -1;
}

double server_cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto const close = all.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream ss(all.substr(close + 2));
  std::string field;
  double ut = -1, st = -1;
  // Fields after the name start at 3 (state); utime is 14, stime 15.
  for (int i = 3; i <= 15 && ss >> field; ++i) {
    if (i == 14) ut = std::stod(field);
    if (i == 15) st = std::stod(field);
  }
  if (ut < 0 || st < 0) return -1;
  return (ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace parley::bench
