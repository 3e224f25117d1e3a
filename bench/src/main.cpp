// parley-bench: a WebSocket load tool that speaks the chat protocol (docs/benchmarks.md).

#include "options.hpp"
#include "workloads.hpp"

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <iostream>
#include <regex>

namespace {

// ws://HOST:PORT[/...] or wss://... into host, port and TLS; the path is ignored (the tool
// uses /ws/{id}).
void apply_url(parley::bench::bench_options& o, std::string const& url) {
  static std::regex const re(R"(^wss?://(\[[^\]]+\]|[^:/]+)(?::(\d+))?(/.*)?$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) throw CLI::ValidationError("--url", "expected ws://HOST:PORT");
  o.tls = url.starts_with("wss:");
  std::string host = m[1];
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  o.host = host;
  if (m[2].matched)
    o.port = static_cast<std::uint16_t>(std::stoi(m[2]));
  else
    o.port = o.tls ? 443 : 80;
}

// Connections are file descriptors: take the hard limit (20,000 on the benchmark machine).
void raise_open_files() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  parley::bench::bench_options o;
  CLI::App app{"parley-bench: load tool for the Parley chat protocol (relay, idle, churn)"};
  app.require_subcommand(1);
  std::string url;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--url", url,
                    "ws://HOST:PORT or wss://HOST:PORT (overrides --host and --port)");
    sub->add_option("--tls-ca", o.tls_ca,
                    "wss: trust only this PEM certificate (e.g. the server's self-signed one)");
    sub->add_flag("--insecure", o.insecure, "wss: do not verify the server's certificate");
    sub->add_option("--host", o.host, "server address, loopback only")->capture_default_str();
    sub->add_option("--port", o.port, "server port")->capture_default_str();
    sub->add_option("--extra-ports", o.extra_ports,
                    "more ports of --host (cluster nodes): connection i goes to the i-th of "
                    "--port and these, round robin (relay pairs i<->i^1 then span two nodes)")
        ->delimiter(',');
    sub->add_option("--connections,-c", o.connections,
                    "connections (relay: pairs i<->i^1; churn: loops)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    sub->add_option("--duration,-d", o.duration, "seconds measured")
        ->capture_default_str()
        ->check(CLI::Range(0.01, 86400.0));
    sub->add_option("--warmup", o.warmup, "seconds before measuring")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 3600.0));
    sub->add_option("--threads,-t", o.threads, "worker threads")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    sub->add_option("--source-addresses", o.source_addresses,
                    "local addresses bound round-robin, e.g. 127.0.0.1,127.0.0.2")
        ->delimiter(',');
    sub->add_option("--connect-concurrency", o.connect_concurrency, "connects in flight at once")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    sub->add_option("--connect-timeout", o.connect_timeout, "seconds for all connections to open")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    sub->add_option("--server-pid", o.server_pid,
                    "server process: report its RSS and CPU from /proc");
    sub->add_option("--label", o.label, "text copied into the report");
    sub->add_option("--id-prefix", o.id_prefix,
                    "client ids are PREFIX<index> (default b<pid>r<run>-)");
    sub->add_option("--read-buffer", o.read_buffer, "initial read buffer bytes per connection")
        ->capture_default_str()
        ->check(CLI::Range(256, 1 << 24));
    sub->add_flag("--json", o.json, "print one JSON line");
  };
  auto* relay =
      app.add_subcommand("relay", "pairs relaying messages; throughput, latency, order checks");
  add_common(relay);
  relay
      ->add_option("--window,-w", o.window,
                   "closed loop: messages in flight per sender; a place is freed when the "
                   "partner receives the message (with --ack: when the ack comes)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  relay->add_option("--rate,-r", o.rate, "open loop: aggregate msg/s (0: closed loop)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  relay->add_option("--size,-s", o.size, "bytes of each message's text (>= 34)")
      ->capture_default_str()
      ->check(CLI::Range(34, 1 << 20));
  relay->add_option("--drain", o.drain, "seconds to wait for messages in flight at the end")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  relay
      ->add_option("--max-inflight", o.max_inflight,
                   "open loop: in flight per sender before sends are skipped")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  relay->add_flag("--ack", o.ack,
                  "send a cid with each message and check the acks: reports acked msg/s, send->ack "
                  "latency, acks by status and refusals; in closed loop the ack (not the relayed "
                  "copy) frees the sender's window");
  relay->add_flag("--store-metrics", o.store_metrics,
                  "read the store's counters (parley_store_*) from http://HOST:PORT/metrics before "
                  "and after the window: commits/s, fsyncs/s, messages per commit");
  relay->add_option("--metrics-url", o.metrics_url,
                    "http://127.0.0.1:PORT/PATH to read them from instead (implies "
                    "--store-metrics)");
  auto* idle =
      app.add_subcommand("idle", "open N connections; connect rate and server RSS per connection");
  add_common(idle);
  idle->add_option("--hold", o.hold, "seconds to keep the connections open")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  idle->add_option("--settle", o.settle, "seconds between the last welcome and the RSS reading")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600.0));
  auto* churn =
      app.add_subcommand("churn", "connect, welcome, close in loops; handshakes per second");
  add_common(churn);
  CLI11_PARSE(app, argc, argv);

  try {
    if (!url.empty()) apply_url(o, url);
    raise_open_files();
    if (relay->parsed()) return o.mode = "relay", parley::bench::run_relay(o);
    if (idle->parsed()) return o.mode = "idle", parley::bench::run_idle(o);
    o.mode = "churn";
    return parley::bench::run_churn(o);
  } catch (std::exception const& e) {
    std::cerr << "parley-bench: " << e.what() << "\n";
    return 2;
  }
}
