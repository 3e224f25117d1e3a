#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parley/cluster/cluster_config.hpp"
#include "parley/core/chat_connection.hpp"
#include "parley/store/store_config.hpp"

namespace parley::net {

// Every setting of the server, each with its default and the reason for it. app/ fills it
// from flags and PARLEY_* environment variables; net/ only reads it.
struct server_config {
  std::string host = "127.0.0.1";          // loopback: a local demo is not exposed by accident
  std::uint16_t port = 8000;               // 0 picks a free port (the log line names it)
  std::string static_dir = "web";          // pages read from disk, so an edit shows on reload
  unsigned threads = 0;                    // 0: one per core
  double ping_interval_seconds = 10;       // protocol.md default; notices dead peers in seconds
  double ping_timeout_seconds = 10;        // protocol.md default
  std::size_t max_text_bytes = 64 * 1024;  // protocol.md: longer text -> too_large
  std::size_t max_binary_bytes = 8 * 1024 * 1024;  // protocol.md: longer message -> close 1009
  // Frames in one message; more -> close 1009. Browsers never fragment, and 8 MiB sent in
  // 16 KiB frames is 512; the bound stops a message of endless empty frames.
  std::size_t max_message_fragments = 1024;
  std::size_t max_outbox_bytes = 16 * 1024 * 1024;  // hard cap on unsent data per connection
  std::size_t outbox_soft_bytes = 1024 * 1024;      // above this for too long: too slow
  double outbox_soft_seconds = 10;                  // how long "too long" is
  double handshake_timeout_seconds = 10;         // protocol.md: unfinished HTTP request or upgrade
  double close_timeout_seconds = 2;              // wait for the peer's side of a close handshake
  std::size_t max_http_header_bytes = 8 * 1024;  // a request's headers; more: 431
  // Fields in a request's header; more: 431. Browsers send about 20; the byte limit alone
  // would let some 2000 tiny fields through.
  std::size_t max_http_header_count = 100;
  // WebSockets at once; more: 503. Under the 20,000 files a process may open on our machines;
  // app/ lowers it at start-up to fit the process's actual open-file limit.
  std::size_t max_connections = 19000;
  // Open TCP connections (pages and WebSockets) from one address; more: 429. An office behind
  // one NAT address may hold hundreds, but one address must not take all of max_connections.
  std::size_t max_connections_per_ip = 1000;
  // New connections a second from one address, in bursts of 2 s; more: 429 (0: no limit). A
  // page load opens up to 7 (six for assets, one WebSocket): the burst of 200 lets ~30 users
  // behind one NAT reload at once, and the page redials with backoff and jitter after a 429.
  double max_new_connections_per_ip = 100;
  // Addresses tracked at once (about 150 bytes each). Above the 20,000 files a process may
  // open, so at the cap there is always an idle address to forget; if not: 503.
  std::size_t max_tracked_ips = 65536;
  // Loopback peers (127.0.0.0/8, ::1) skip the per-address limits: they are this machine, or a
  // reverse proxy in front where every client shares its address (and the load benchmarks).
  bool ip_limits_on_loopback = false;
  // Networks of the reverse proxies in front (HAProxy with send-proxy-v2), as ADDRESS/PREFIX.
  // A connection to the main port from one of them must open with a PROXY protocol v2 header,
  // whose client address then stands for the peer everywhere (limits, logs, admin API); it is
  // closed otherwise. Empty: no header is ever read, so no client can claim another address.
  std::vector<std::string> trusted_proxies;
  std::size_t max_http_body_bytes = 64 * 1024;  // no route takes a body; bounds what is read
  // Empty: no authentication (the local demo). Otherwise every upgrade needs a JWT HS256
  // signed with it, whose `sub` is the path's id (HTTP 401 otherwise).
  std::string auth_secret;
  // Browser origins allowed to connect besides the server's own (see origin_policy); empty:
  // localhost, 127.0.0.1 and [::1] on any port; "*": any.
  std::vector<std::string> allowed_origins;
  // Both set: HTTPS and WSS on the port, from PEM files (certificate chain, private key);
  // both empty: plain HTTP and WS (the local demo, or TLS ended by a proxy in front).
  std::string tls_certificate_file;
  std::string tls_key_file;
  std::string log_level = "info";
  // Set: /metrics and /healthz need `Authorization: Bearer <it>` (401 otherwise). Empty: open,
  // as a local demo and most scrapers expect.
  std::string metrics_token;
  // Set ("127.0.0.1:9100"): a second port that serves only /metrics, /healthz and /admin, which
  // the main port then answers 404. Empty: the main port serves them.
  std::string admin_listen;
  // Set: the admin page and API (/admin, /admin/api/...) are on, and the API needs
  // `Authorization: Bearer <it>`. Empty: /admin answers 404 (kicks and bans are powers).
  std::string admin_token;
  // Ids banned at once (--admin-token's ban); about 100 bytes each. More: the ban is refused.
  std::size_t max_banned_ids = 10000;
  std::string log_format = "text";  // or "json": one object per line, for log collectors
  core::chat_limits chat;           // who/watch limits; max_text_bytes mirrored from above
  store::store_config store;        // the durable store (protocol-v2)
  cluster::cluster_config cluster;  // one node of a cluster, with --cluster-redis

  // The hard outbox limit actually applied: never less than two of the largest messages
  // (protocol.md), so one big file cannot trip it alone.
  std::size_t effective_max_outbox_bytes() const;
  bool tls() const { return !tls_certificate_file.empty(); }
};

// The settings (by flag name) that SIGHUP changes in a running server: those read each time a
// connection, request or message uses them, on the thread that serves it (the worker keeps its
// own copy and swaps the values on its thread), and the TLS certificate and key (new
// connections get the new context; open ones keep theirs). The rate limits of a connection are
// set when it opens, so max-messages-per-second and max-bytes-per-second apply to connections
// opened after the reload; the others apply at once. Every other setting needs a restart.
// clang-format off
inline constexpr std::string_view reloadable_settings[] = {
    "log-level", "tls-cert", "tls-key", "allowed-origins",
    "max-connections", "max-connections-per-ip", "max-new-connections-per-ip", "max-tracked-ips",
    "ip-limits-on-loopback", "trusted-proxies",
    "max-messages-per-second", "max-bytes-per-second", "max-rate-strikes",
    "max-outbox-bytes", "outbox-soft-bytes", "outbox-soft-seconds",
    "ping-interval", "ping-timeout", "handshake-timeout", "max-http-header-count"};
// clang-format on

// Copies the reloadable settings (reloadable_settings) of `next` into `running`, and nothing
// else. The TLS files are copied only when both have TLS: turning it on or off needs a restart.
void copy_reloadable(server_config& running, const server_config& next);

// A setting in (fractional) seconds as a clock duration.
inline std::chrono::steady_clock::duration seconds_setting(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace parley::net
