#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message_generator.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "parley/cluster/cluster_link.hpp"
#include "parley/core/auth_token.hpp"
#include "parley/core/ban_list.hpp"
#include "parley/net/ip_limits.hpp"
#include "parley/net/log_throttle.hpp"
#include "parley/net/ops_access.hpp"
#include "parley/net/peer_address.hpp"
#include "parley/net/static_files.hpp"
#include "parley/net/transport.hpp"
#include "parley/net/worker.hpp"
#include "parley/net/ws_handshake.hpp"
#include "parley/store/durable_store.hpp"

namespace parley::net {

// What every HTTP session of one server shares; owned by the server. What SIGHUP may change
// (allowed origins, the TLS context, limits) is the worker's (worker::origins, worker::tls,
// worker::config) or ip_limits's own.
struct http_context {
  const static_files& files;
  const core::token_verifier* tokens;  // null when authentication is off
  std::chrono::steady_clock::time_point started;
  std::span<const std::unique_ptr<worker>> workers;  // for /metrics
  ip_limits& addresses;                              // safe from any thread
  const store::durable_store* store;                 // null without a store
  const cluster::cluster_link* cluster;              // null unless a node of a cluster
  log_throttle& refusal_log;               // bounds the info lines about refused connections
  core::ban_list& bans;                    // ids refused at the upgrade (admin API)
  port_role role = port_role::everything;  // which paths this context's port serves
};

// One HTTP connection: serves pages, /healthz and errors with keep-alive, and hands the
// socket to a ws_session after a valid upgrade on /ws/{client_id}. Each request, the upgrade
// included, must arrive within --handshake-timeout or the connection is closed.
// It takes a slot in its address's limits when made (on its worker's thread) and hands it to
// the ws_session; a connection refused a slot answers its first request 429 (or 503) and closes.
// A connection to the main port from a trusted proxy (--trusted-proxies) first reads the PROXY
// v2 header, within --handshake-timeout, before any TLS or HTTP byte; the client address it
// carries is then the peer (its slot, logs, the admin API), and a missing or malformed header
// closes the connection. The ops port (--admin-listen) is not behind the proxy: never read.
class http_session : public std::enable_shared_from_this<http_session> {
 public:
  // `peer`: the client's address and port, as accept gave them.
  http_session(worker& owner, const http_context& context, boost::asio::ip::tcp::socket socket,
               const boost::asio::ip::tcp::endpoint& peer);

  // Starts serving on the worker's thread.
  void start();

 private:
  boost::asio::awaitable<void> serve();
  void take_address_slot(const boost::asio::ip::address& address);
  // Reads the trusted proxy's PROXY v2 header and takes the carried address as the peer; false
  // (counted and logged, throttled) when the header is missing, malformed or too slow.
  boost::asio::awaitable<bool> accept_proxy_header();
  // Counts and logs (throttled) a refused PROXY header; returns false, for accept_proxy_header.
  bool proxy_refused(std::string_view why);
  // Who may upgrade: the id, per-address, origin, token, upgrade-header and capacity checks, in
  // that order.
  struct admission {
    std::string id;
    std::optional<std::int64_t> token_expires_at;  // token_verifier::accepted_until
    std::optional<std::string> subprotocol;
  };
  std::variant<handshake_refusal, admission> admit(const http_request& request,
                                                   std::string_view path) const;
  // With --auth-secret: the last second the request's token is accepted, or why it is refused.
  std::variant<handshake_refusal, std::optional<std::int64_t>> authenticate(
      const http_request& request, std::string_view id) const;
  boost::asio::awaitable<void> upgrade(http_request request, std::string_view path);
  boost::asio::awaitable<void> refuse(const handshake_refusal& refusal);
  // Logs a refusal: at info for 401, 403, 429 and 503 (what an operator asks about), with
  // their reason; at debug for malformed requests.
  void log_refusal(const handshake_refusal& refusal, std::string_view target) const;
  boost::beast::http::message_generator respond(const http_request& request);
  boost::beast::http::message_generator serve_file(const http_request& request,
                                                   const std::filesystem::path& file);
  boost::beast::http::message_generator health(const http_request& request);
  boost::beast::http::message_generator metrics(const http_request& request);
  // /admin and /admin/api/...: off (404) without --admin-token.
  boost::beast::http::message_generator admin(const http_request& request, std::string_view path);
  boost::asio::awaitable<void> refuse_plain_http();
  boost::asio::awaitable<void> send_error(boost::beast::http::status status,
                                          std::string_view reason);
  // Closes the connection when the current request has not arrived by then.
  void arm_deadline();
  void shut_down();

  worker& worker_;
  const http_context& context_;
  transport stream_;
  boost::asio::steady_timer deadline_;
  boost::beast::flat_buffer buffer_;
  peer_address peer_;
  ip_limits::slot address_slot_;                      // empty for an exempt (loopback) peer
  std::optional<handshake_refusal> address_refusal_;  // set instead when refused at accept
  // The trusted proxy's endpoint until its header is read; then, and for others, empty.
  std::optional<boost::asio::ip::tcp::endpoint> proxy_;
};

// 401 with `WWW-Authenticate: Bearer`, keeping the connection.
boost::beast::http::message_generator unauthorized(const http_request& request,
                                                   std::string_view reason);

// A plain-text response.
boost::beast::http::message_generator text_response(const http_request& request,
                                                    boost::beast::http::status status,
                                                    std::string_view body);

}  // namespace parley::net
