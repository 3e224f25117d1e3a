#pragma once
// The store's own counters, which a client cannot see: the server's Prometheus text is read
// before and after the measured window, and the differences give commits and fsyncs per
// second and messages per commit. A server without them (no /metrics, or no store counters)
// leaves the fields out; it is never a failure of the run.

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

struct http_url {
  boost::asio::ip::tcp::endpoint endpoint;
  std::string host_header;  // "127.0.0.1:8080"
  std::string target;       // "/metrics"
  std::string text;         // as given, for the report
};

// http://HOST[:PORT][/PATH] with a loopback HOST (the port defaults to 80, the path to
// /metrics); throws std::runtime_error for anything else (https, a name, another host).
http_url parse_http_url(std::string const& url);

// One HTTP/1.1 GET with "Connection: close", bounded by `timeout_s` and by a body limit of
// 16 MiB. The body of a 200 answer, or nullopt with `why` saying what happened instead.
std::optional<std::string> http_get(http_url const& url, double timeout_s, std::string& why);

// The sum of every sample of metric `name` in Prometheus text (all label sets), or nullopt
// when the text has no sample of it.
std::optional<double> prometheus_sum(std::string_view text, std::string_view name);

// One reading of the store counters; each is absent when the server does not export it.
struct store_sample {
  std::int64_t at_ns = 0;  // now_ns() when the answer arrived
  std::optional<double> commits, syncs, messages;
  std::string failure;  // why nothing was read (the GET failed); empty when it worked
};

store_sample scrape_store(http_url const& url);

// Adds store_commits_per_s, store_syncs_per_s and store_messages_per_commit, each only when
// both samples hold the counters it needs; and store_metrics_url, or store_metrics_missing
// with the reason when no figure could be made.
void add_store_rates(boost::json::object& report, http_url const& url, store_sample const& before,
                     store_sample const& after);

}  // namespace parley::bench
