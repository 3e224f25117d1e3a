#pragma once
// The command line of parley-bench: every setting with its default and why.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::bench {

struct bench_options {
  std::string mode;                // relay | idle | churn
  std::string host = "127.0.0.1";  // loopback only: this tool never loads another host
  std::uint16_t port = 8080;
  // More ports of the same host: connection i goes to the i-th of (port, extra ports...), round
  // robin, so a relay's pairs i<->i^1 are split over two nodes of a cluster.
  std::vector<std::uint16_t> extra_ports;
  std::size_t connections = 1000;         // relay: even, in pairs; churn: concurrent loops
  std::size_t window = 16;                // relay closed loop: messages in flight per sender
  double rate = 0;                        // relay open loop: aggregate msg/s; 0 = closed loop
  std::size_t size = 64;                  // bytes of each message's "text" (at least 34)
  double duration = 10;                   // seconds measured
  double warmup = 2;                      // seconds run before measuring
  double drain = 5;                       // relay: seconds to wait for messages in flight
  double connect_timeout = 60;            // seconds for all connections to get their welcome
  double hold = 0;                        // idle: seconds to keep the connections open
  double settle = 1;                      // idle: seconds between the last welcome and the RSS read
  std::size_t threads = 1;                // worker threads, one io_context each
  std::size_t connect_concurrency = 256;  // connects in flight at once (per run)
  std::size_t max_inflight = 100000;  // open loop: a sender past this skips sends (bounds memory)
  std::size_t read_buffer = 4096;     // initial read buffer per connection; grows for big frames
  bool ack = false;                   // relay: send a cid; the ack frees the window, is timed
  bool store_metrics = false;         // relay: scrape the store's counters from HOST:PORT/metrics
  std::string metrics_url;            // relay: scrape this URL instead (implies store_metrics)
  bool tls = false;                   // wss://: TLS over each connection, only when asked
  std::string tls_ca;                 // wss: trust this PEM certificate (default: the system's)
  bool insecure = false;              // wss: verify nothing (a self-signed test certificate)
  bool json = false;                  // print one JSON line instead of the summary
  int server_pid = 0;                 // read the server's RSS and CPU from /proc
  std::string label;                  // free text copied into the report (e.g. server name)
  std::string id_prefix;              // client ids are <prefix><index>; default b<pid>r<n>-
  std::vector<std::string> source_addresses;  // 127.0.0.x, bound round-robin
};

}  // namespace parley::bench
