#include "parley/net/metrics.hpp"

#include <fmt/format.h>

#include <functional>

#include "parley/protocol/error_code.hpp"

namespace parley::net {

namespace {

using core::counter;
using core::counters;

std::uint64_t sum(std::span<const std::unique_ptr<worker>> workers,
                  const std::function<const counter&(const counters&)>& pick) {
  std::uint64_t total = 0;
  for (const auto& w : workers)
    total += pick(w->stats()).get();
  return total;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
  }
}

void render_store(std::string& out, const store::durable_store& store) {
  const store::store_stats& s = store.stats();
  auto counter = [&](std::string_view name, std::string_view help, std::uint64_t value) {
    family(out, name, "counter", help);
    sample(out, name, "", value);
  };
  counter("parley_store_commits_total", "Store transactions committed.",
          s.commits.load(std::memory_order_relaxed));
  counter("parley_store_committed_messages_total", "Messages committed to the store.",
          s.committed_messages.load(std::memory_order_relaxed));
  counter("parley_store_syncs_total",
          "Durable writes waited for: fsync calls of SQLite's files, or PostgreSQL commits.",
          store.syncs());
  counter("parley_store_commit_failures_total",
          "Store transactions that failed and were rolled back (disk full, read-only, ...).",
          s.commit_failures.load(std::memory_order_relaxed));
  counter("parley_store_duplicates_total", "Retries acked again without being stored again.",
          s.duplicates.load(std::memory_order_relaxed));
  family(out, "parley_store_up", "gauge", "1 while the store can write, 0 while it cannot.");
  sample(out, "parley_store_up", "", store.health().up ? 1 : 0);
}

void render_cluster(std::string& out, const cluster::cluster_link& link) {
  const cluster::cluster_stats& s = link.stats();
  auto one = [&](std::string_view name, std::string_view type, std::string_view help,
                 std::uint64_t value) {
    family(out, name, type, help);
    sample(out, name, "", value);
  };
  auto relaxed = std::memory_order_relaxed;
  one("parley_cluster_nodes", "gauge", "Live nodes of the cluster, this one included.",
      s.nodes.load(relaxed));
  one("parley_cluster_redis_up", "gauge", "1 while this node is connected to Redis.",
      s.redis_up.load(relaxed) ? 1 : 0);
  one("parley_cluster_messages_out_total", "counter", "Frames forwarded to other nodes.",
      s.messages_out.load(relaxed));
  one("parley_cluster_messages_in_total", "counter", "Frames other nodes forwarded here.",
      s.messages_in.load(relaxed));
  one("parley_cluster_batches_out_total", "counter",
      "Batches published to other nodes (one per node per loop turn of the link).",
      s.batches_out.load(relaxed));
  one("parley_cluster_dropped_total", "counter",
      "Frames for other nodes dropped because Redis was unreachable.", s.dropped_out.load(relaxed));
  one("parley_cluster_bad_batches_total", "counter", "Batches from other nodes not understood.",
      s.bad_batches.load(relaxed));
  one("parley_cluster_redis_reconnects_total", "counter", "Connections to Redis made again.",
      s.redis_reconnects.load(relaxed));
  family(out, "parley_cluster_redis_round_trip_seconds", "gauge",
         "The last heartbeat's round trip to Redis.");
  fmt::format_to(std::back_inserter(out), "parley_cluster_redis_round_trip_seconds {:.6f}\n",
                 static_cast<double>(s.redis_round_trip_us.load(relaxed)) / 1e6);
}

}  // namespace

std::string render_metrics(std::span<const std::unique_ptr<worker>> workers, const core::hub& hub,
                           const store::durable_store* store, const cluster::cluster_link* cluster,
                           double uptime_seconds) {
  std::string out;
  auto simple = [&](std::string_view name, std::string_view type, std::string_view help,
                    auto pick) {
    family(out, name, type, help);
    sample(out, name, "", sum(workers, pick));
  };
  family(out, "parley_connections", "gauge", "Open WebSocket connections.");
  sample(out, "parley_connections", "", hub.connection_count());
  family(out, "parley_uptime_seconds", "gauge", "Seconds since the server started.");
  sample(out, "parley_uptime_seconds", "", static_cast<std::uint64_t>(uptime_seconds));
  simple("parley_connections_opened_total", "counter", "WebSocket connections accepted.",
         [](const counters& c) -> const counter& { return c.connections_opened; });
  simple("parley_http_requests_total", "counter", "HTTP requests read, upgrades included.",
         [](const counters& c) -> const counter& { return c.http_requests; });
  simple("parley_address_refusals_total", "counter",
         "Connections refused by the per-address limits (429, or 503 with every address open).",
         [](const counters& c) -> const counter& { return c.address_refusals; });
  simple("parley_proxy_header_refusals_total", "counter",
         "Connections from --trusted-proxies closed for a missing or malformed PROXY v2 header.",
         [](const counters& c) -> const counter& { return c.proxy_header_refusals; });
  simple("parley_messages_received_total", "counter", "Text and binary messages received.",
         [](const counters& c) -> const counter& { return c.messages_in; });
  simple("parley_messages_sent_total", "counter", "Frames queued to clients.",
         [](const counters& c) -> const counter& { return c.messages_out; });
  simple("parley_received_bytes_total", "counter", "Bytes read from WebSockets.",
         [](const counters& c) -> const counter& { return c.bytes_in; });
  simple("parley_sent_bytes_total", "counter", "Bytes written to WebSockets.",
         [](const counters& c) -> const counter& { return c.bytes_out; });
  simple("parley_slow_consumer_closes_total", "counter", "Connections closed with 4008.",
         [](const counters& c) -> const counter& { return c.closes_slow_consumer; });
  simple("parley_ping_timeouts_total", "counter", "Connections closed with 4000.",
         [](const counters& c) -> const counter& { return c.closes_ping_timeout; });

  family(out, "parley_outbox_peak_bytes", "gauge",
         "The most unsent bytes any one connection has held.");
  std::uint64_t peak = 0;
  for (const auto& w : workers)
    peak = std::max(peak, w->stats().outbox_peak_bytes.get());
  sample(out, "parley_outbox_peak_bytes", "", peak);

  family(out, "parley_errors_total", "counter", "Error frames sent, by code.");
  for (std::size_t i = 0; i < counters::error_codes; ++i) {
    auto code = static_cast<protocol::error_code>(i);
    std::string labels = fmt::format("code=\"{}\"", protocol::to_string(code));
    sample(out, "parley_errors_total", labels,
           sum(workers, [i](const counters& c) -> const counter& { return c.errors[i]; }));
  }
  family(out, "parley_closes_total", "counter", "WebSocket connections ended, by reason.");
  auto closes = [&](std::string_view reason, auto pick) {
    sample(out, "parley_closes_total", fmt::format("reason=\"{}\"", reason), sum(workers, pick));
  };
  closes("normal", [](const counters& c) -> const counter& { return c.closes_normal; });
  closes("protocol", [](const counters& c) -> const counter& { return c.closes_protocol; });
  closes("too_slow", [](const counters& c) -> const counter& { return c.closes_slow_consumer; });
  closes("ping_timeout", [](const counters& c) -> const counter& { return c.closes_ping_timeout; });
  closes("abnormal", [](const counters& c) -> const counter& { return c.closes_abnormal; });
  closes("kicked", [](const counters& c) -> const counter& { return c.closes_kicked; });
  if (store) render_store(out, *store);
  if (cluster) render_cluster(out, *cluster);
  return out;
}

}  // namespace parley::net
