#include "parley/net/http_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "parley/core/clock.hpp"
#include "parley/core/log_event.hpp"
#include "parley/net/admin_api.hpp"
#include "parley/net/io_errors.hpp"
#include "parley/net/metrics.hpp"
#include "parley/net/ws_session.hpp"
#include "parley/protocol/client_id.hpp"
#include "parley/protocol/json_writer.hpp"
#include "parley/protocol/percent_decode.hpp"
#include "parley/protocol/proxy_header.hpp"

namespace parley::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

// The client a PROXY header carries.
asio::ip::tcp::endpoint endpoint_of(const protocol::proxy_source& source) {
  const auto& b = source.address;
  if (source.ipv6) return {asio::ip::address_v6(b), source.port};
  return {asio::ip::address_v4({b[0], b[1], b[2], b[3]}), source.port};
}

bool is_websocket_path(std::string_view path) {
  return path == "/ws" || path.starts_with("/ws/");
}

// The answer to a connection that its address's limits refused at accept.
handshake_refusal refusal_for(ip_refusal refused) {
  switch (refused) {
    case ip_refusal::too_many_open:
      return {http::status::too_many_requests,
              "too many open connections from your address; close one and try again\n",
              "too many open connections from this address (--max-connections-per-ip)"};
    case ip_refusal::too_many_new:
      return {http::status::too_many_requests,
              "too many new connections from your address; try again in a second\n",
              "too many new connections a second from this address "
              "(--max-new-connections-per-ip)"};
    case ip_refusal::too_many_addresses:
      break;
  }
  return {http::status::service_unavailable, "too many client addresses; try again later\n",
          "--max-tracked-ips addresses are tracked and none is idle"};
}

}  // namespace

http::message_generator text_response(const http_request& request, http::status status,
                                      std::string_view body) {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(request.keep_alive());
  if (request.method() != http::verb::head) response.body() = body;
  response.prepare_payload();
  if (request.method() == http::verb::head) response.content_length(body.size());
  return response;
}

// 401 with the challenge RFC 6750 asks for; the connection stays open for the next request.
http::message_generator unauthorized(const http_request& request, std::string_view reason) {
  http::response<http::string_body> response{http::status::unauthorized, request.version()};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::www_authenticate, "Bearer realm=\"parley\"");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  if (request.method() != http::verb::head) response.body() = reason;
  response.prepare_payload();
  return response;
}

http_session::http_session(worker& owner, const http_context& context, asio::ip::tcp::socket socket,
                           const asio::ip::tcp::endpoint& peer)
    : worker_(owner),
      context_(context),
      // The operator's port is plain HTTP, on a private address (--admin-listen).
      stream_(std::move(socket), context.role == port_role::ops_only ? nullptr : owner.tls()),
      deadline_(stream_.get_executor()),
      peer_(peer) {
  if (context.role != port_role::ops_only && owner.proxies().trusts(peer.address())) {
    proxy_ = peer;  // the slot waits for the address its header carries
  } else {
    take_address_slot(peer.address());
  }
}

// Counted at accept, before any request: a refused connection costs its reading and one answer.
void http_session::take_address_slot(const asio::ip::address& address) {
  auto taken = context_.addresses.acquire(address, core::steady_nanos());
  if (auto* slot = std::get_if<ip_limits::slot>(&taken)) {
    address_slot_ = std::move(*slot);
    return;
  }
  address_refusal_ = refusal_for(std::get<ip_refusal>(taken));
  worker_.stats().address_refusals.add();
  log_refusal(*address_refusal_, "at accept");
}

// Reads exactly the header's bytes from the socket itself, below TLS: what follows it (the TLS
// handshake or the request) is left for the transport. Costs a coroutine frame and two reads,
// only for connections from a trusted proxy.
asio::awaitable<bool> http_session::accept_proxy_header() {
  arm_deadline();
  std::array<std::uint8_t, protocol::max_proxy_header_bytes> header;
  auto [ec, n] = co_await asio::async_read(
      stream_.socket(), asio::buffer(header.data(), protocol::proxy_fixed_bytes), use_nothrow);
  if (ec == asio::error::eof && n == 0) co_return false;  // connected and left (a port probe)
  if (ec) co_return proxy_refused("no complete PROXY header within --handshake-timeout");
  auto rest = protocol::proxy_rest_bytes(std::span<const std::uint8_t, protocol::proxy_fixed_bytes>(
      header.data(), protocol::proxy_fixed_bytes));
  if (auto* error = std::get_if<protocol::proxy_error>(&rest)) {
    co_return proxy_refused(protocol::to_string(*error));
  }
  std::size_t length = protocol::proxy_fixed_bytes + std::get<std::size_t>(rest);
  std::tie(ec, n) =
      co_await asio::async_read(stream_.socket(),
                                asio::buffer(header.data() + protocol::proxy_fixed_bytes,
                                             length - protocol::proxy_fixed_bytes),
                                use_nothrow);
  if (ec) co_return proxy_refused("no complete PROXY header within --handshake-timeout");
  auto parsed = protocol::parse_proxy_header(std::span(header.data(), length));
  if (auto* error = std::get_if<protocol::proxy_error>(&parsed)) {
    co_return proxy_refused(protocol::to_string(*error));
  }
  auto* source = std::get_if<protocol::proxy_source>(&parsed);
  asio::ip::tcp::endpoint client = source ? endpoint_of(*source) : *proxy_;  // LOCAL: the proxy
  proxy_.reset();
  peer_ = peer_address(client);
  take_address_slot(client.address());
  co_return true;
}

bool http_session::proxy_refused(std::string_view why) {
  worker_.stats().proxy_header_refusals.add();
  auto left_out = context_.refusal_log.admit(std::chrono::steady_clock::now());
  if (!left_out) return false;
  std::string text =
      fmt::format("refused {}: {} (a --trusted-proxies peer must open with a PROXY v2 header)",
                  peer_.text(), why);
  if (*left_out > 0) text += fmt::format(" ({} refusals not logged before this one)", *left_out);
  core::log_event("proxy_header_refused")
      .text("peer", peer_.text())
      .text("reason", why)
      .number("not_logged_before", static_cast<std::int64_t>(*left_out))
      .message(text)
      .log(spdlog::level::warn);
  return false;
}

void http_session::start() {
  asio::co_spawn(stream_.get_executor(), serve(), [](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("http session failed: {}", e.what());
    }
  });
}

asio::awaitable<void> http_session::serve() {
  auto self = shared_from_this();
  const server_config& config = worker_.config();
  if (proxy_ && !co_await accept_proxy_header()) co_return shut_down();
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config.max_http_header_bytes));
    parser.body_limit(config.max_http_body_bytes);
    arm_deadline();
    auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, use_nothrow);
    if (ec == http::error::header_limit) {
      co_return co_await send_error(http::status::request_header_fields_too_large,
                                    "request headers too large\n");
    }
    if (ec == http::error::body_limit) {
      co_return co_await send_error(http::status::payload_too_large, "request body too large\n");
    }
    if (ec && !is_expected_io_error(ec) && ec != http::error::partial_message) {
      co_return co_await send_error(http::status::bad_request, "malformed HTTP request\n");
    }
    if (ec && stream_.plain_http_on_tls()) co_return co_await refuse_plain_http();
    if (ec) co_return shut_down();
    const http_request& head = parser.get();  // the byte limit alone allows ~2000 tiny fields
    if (std::size_t(std::distance(head.begin(), head.end())) > config.max_http_header_count) {
      co_return co_await send_error(http::status::request_header_fields_too_large,
                                    "too many request header fields\n");
    }
    worker_.stats().http_requests.add();
    http_request request = parser.release();
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (is_websocket_path(path) && serves(context_.role, path)) {
      co_return co_await upgrade(std::move(request), path);
    }
    if (address_refusal_) co_return co_await refuse(*address_refusal_);
    http::message_generator response = respond(request);
    bool keep_alive = response.keep_alive();
    auto [write_ec, written] =
        co_await beast::async_write(stream_, std::move(response), use_nothrow);
    if (write_ec || !keep_alive) co_return shut_down();
  }
}

// The answer nginx also gives: the client meant https://, and a plain-text 400 says so.
asio::awaitable<void> http_session::refuse_plain_http() {
  constexpr std::string_view body = "this port speaks HTTPS: use https:// or wss:// URLs\n";
  std::string response =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  co_await asio::async_write(stream_.socket(), asio::buffer(response), use_nothrow);
  shut_down();
}

asio::awaitable<void> http_session::send_error(http::status status, std::string_view reason) {
  // A named local, not a temporary in the co_await expression: GCC 12 destroyed that temporary
  // twice (a double free that aborted the server on every 400, 413 and 431).
  handshake_refusal refusal{status, std::string(reason)};
  co_await refuse(refusal);
}

void http_session::arm_deadline() {
  deadline_.expires_after(seconds_setting(worker_.config().handshake_timeout_seconds));
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->stream_.close();  // the pending read or write ends with an error
  });
}

void http_session::shut_down() {
  deadline_.cancel();
  stream_.shutdown_send();
  stream_.close();
}

std::variant<handshake_refusal, http_session::admission> http_session::admit(
    const http_request& request, std::string_view path) const {
  std::string_view raw_id = path.size() > 4 ? path.substr(4) : std::string_view{};
  auto id = protocol::percent_decode(raw_id);
  if (!id || !protocol::is_valid_client_id(*id)) {
    return handshake_refusal{http::status::bad_request,
                             std::string(protocol::bad_client_id_reason)};
  }
  // Next the refusal made at accept: it depends on nothing in the request, and spares the
  // costlier checks; a 503 or 401 would misdirect a client that only has to wait.
  if (address_refusal_) return *address_refusal_;
  // Who asks comes before how: a page that fetches its socket's path with a plain GET, to learn
  // why its socket was refused, gets the origin or token answer rather than 426.
  std::string_view origin = request[http::field::origin];
  if (!worker_.origins().allows(origin, request[http::field::host])) {
    return handshake_refusal{
        http::status::forbidden,
        "this page's origin may not connect; the server's --allowed-origins lists the sites "
        "whose pages may\n",
        "origin " + std::string(origin) +
            " is not allowed; --allowed-origins=" + std::string(origin) + " would allow it"};
  }
  auto token_deadline = authenticate(request, *id);
  if (auto* refusal = std::get_if<handshake_refusal>(&token_deadline)) return *refusal;
  if (auto until = context_.bans.banned_until(*id, core::unix_millis())) {
    return handshake_refusal{http::status::forbidden, "banned\n",
                             "id " + *id + " is banned for " +
                                 std::to_string((*until - core::unix_millis() + 999) / 1000) +
                                 " s more (admin API)"};
  }
  if (auto refusal = check_upgrade(request)) return *refusal;
  if (worker_.hub().connection_count() >= worker_.config().max_connections) {
    return handshake_refusal{
        http::status::service_unavailable, "too many connections\n",
        "--max-connections (" + std::to_string(worker_.config().max_connections) + ") reached"};
  }
  return admission{std::move(*id), std::get<std::optional<std::int64_t>>(token_deadline),
                   chosen_subprotocol(request)};
}

std::variant<handshake_refusal, std::optional<std::int64_t>> http_session::authenticate(
    const http_request& request, std::string_view id) const {
  if (!context_.tokens) return std::nullopt;
  auto token = request_token(request);
  if (!token) {
    return handshake_refusal{http::status::unauthorized, "a token is required\n",
                             "no token (neither ?token= nor the subprotocol token.<JWT>)"};
  }
  auto verified = context_.tokens->verify(*token, core::unix_millis() / 1000);
  if (auto* error = std::get_if<core::token_error>(&verified)) {
    return handshake_refusal{http::status::unauthorized, std::string(to_string(*error)) + "\n"};
  }
  auto& claims = std::get<core::token_claims>(verified);
  if (claims.subject != id) {  // signed by us, so its sub is worth logging
    return handshake_refusal{http::status::unauthorized, "the token is for another id\n",
                             "the token is for id " + claims.subject + ", not this one"};
  }
  return context_.tokens->accepted_until(claims.expires_at);
}

void http_session::log_refusal(const handshake_refusal& refusal, std::string_view target) const {
  using status = http::status;
  bool operator_question =
      refusal.status == status::unauthorized || refusal.status == status::forbidden ||
      refusal.status == status::too_many_requests || refusal.status == status::service_unavailable;
  std::string_view why =
      refusal.detail.empty() ? std::string_view(refusal.reason) : std::string_view(refusal.detail);
  if (why.ends_with('\n')) why.remove_suffix(1);
  if (!operator_question) {
    spdlog::debug("refused {} {}: {} {}", peer_.text(), target, static_cast<int>(refusal.status),
                  why);
    return;
  }
  if (!spdlog::should_log(spdlog::level::info)) return;
  auto left_out = context_.refusal_log.admit(std::chrono::steady_clock::now());
  if (!left_out) return;
  int code = static_cast<int>(refusal.status);
  std::string text = fmt::format("refused {} {}: {} {}", peer_.text(), target, code, why);
  if (*left_out > 0) text += fmt::format(" ({} refusals not logged before this one)", *left_out);
  core::log_event("refused")
      .text("peer", peer_.text())
      .text("target", target)
      .number("status", code)
      .text("reason", why)
      .number("not_logged_before", static_cast<std::int64_t>(*left_out))
      .message(text)
      .log(spdlog::level::info);
}

asio::awaitable<void> http_session::refuse(const handshake_refusal& refusal) {
  http::response<http::string_body> response{refusal.status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  if (refusal.status == http::status::upgrade_required) {
    response.set(http::field::upgrade, "websocket");
    response.set(http::field::sec_websocket_version, "13");
  }
  if (refusal.status == http::status::method_not_allowed) response.set(http::field::allow, "GET");
  if (refusal.status == http::status::too_many_requests) {
    response.set(http::field::retry_after, "1");
  }
  if (refusal.status == http::status::unauthorized) {
    response.set(http::field::www_authenticate, "Bearer realm=\"parley\"");
  }
  response.keep_alive(false);
  response.body() = refusal.reason;
  response.prepare_payload();
  co_await http::async_write(stream_, response, use_nothrow);
  shut_down();
}

asio::awaitable<void> http_session::upgrade(http_request request, std::string_view path) {
  auto decision = admit(request, path);
  if (auto* refusal = std::get_if<handshake_refusal>(&decision)) {
    if (!address_refusal_) log_refusal(*refusal, path);  // that one was logged at accept
    co_return co_await refuse(*refusal);
  }
  auto& admitted = std::get<admission>(decision);
  std::string accept =
      switching_protocols_response(request[http::field::sec_websocket_key], admitted.subprotocol);
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(accept), use_nothrow);
  if (ec) {
    log_io_error("upgrade", ec);
    co_return shut_down();
  }
  deadline_.cancel();
  std::string received = beast::buffers_to_string(buffer_.data());
  auto session = std::make_shared<ws_session>(worker_, std::move(stream_), std::move(admitted.id),
                                              std::move(received), peer_, std::move(address_slot_),
                                              admitted.token_expires_at);
  session->start();
}

http::message_generator http_session::respond(const http_request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (!serves(context_.role, path))
    return text_response(request, http::status::not_found, "not found\n");
  if (path == "/admin" || path.starts_with("/admin/")) return admin(request, path);
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    http::response<http::string_body> response{http::status::method_not_allowed, request.version()};
    response.set(http::field::allow, "GET, HEAD");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.keep_alive(request.keep_alive());
    response.body() = "method not allowed\n";
    response.prepare_payload();
    return response;
  }
  if (path == "/healthz" || path == "/metrics") {
    if (!worker_.config().metrics_token.empty() &&
        !has_bearer(request, worker_.config().metrics_token)) {
      return unauthorized(request, "this path needs Authorization: Bearer <--metrics-token>\n");
    }
    return path == "/healthz" ? health(request) : metrics(request);
  }
  std::optional<std::filesystem::path> file;
  if (path == "/" || path == "/index.html") {
    file = context_.files.resolve("index.html");
  } else if (path.starts_with("/static/")) {
    file = context_.files.resolve(path.substr(8));
  }
  if (!file) return text_response(request, http::status::not_found, "not found\n");
  return serve_file(request, *file);
}

http::message_generator http_session::serve_file(const http_request& request,
                                                 const std::filesystem::path& file) {
  std::string tag = entity_tag(file);
  auto set_headers = [&](auto& response) {
    response.set(http::field::etag, tag);
    response.set(http::field::cache_control, "no-cache");  // revalidate: edits show on reload
    response.set(http::field::content_type, mime_type(file));
    response.set("X-Content-Type-Options", "nosniff");
    response.keep_alive(request.keep_alive());
  };
  std::string_view if_none_match = request[http::field::if_none_match];
  if (!if_none_match.empty() &&
      (if_none_match == "*" || if_none_match.find(tag) != std::string_view::npos)) {
    http::response<http::empty_body> response{http::status::not_modified, request.version()};
    set_headers(response);
    return response;
  }
  beast::error_code ec;
  http::file_body::value_type body;
  body.open(file.c_str(), beast::file_mode::scan, ec);
  if (ec) return text_response(request, http::status::not_found, "not found\n");
  auto size = body.size();
  if (request.method() == http::verb::head) {
    http::response<http::empty_body> response{http::status::ok, request.version()};
    set_headers(response);
    response.content_length(size);
    return response;
  }
  http::response<http::file_body> response{std::piecewise_construct,
                                           std::make_tuple(std::move(body)),
                                           std::make_tuple(http::status::ok, request.version())};
  set_headers(response);
  response.content_length(size);
  return response;
}

http::message_generator http_session::health(const http_request& request) {
  using namespace std::chrono;
  auto uptime = duration<double>(steady_clock::now() - context_.started).count();
  core::store_health store;
  if (context_.store) store = context_.store->health();
  std::string body;
  protocol::json_writer json(body);
  json.string_field("status", store.up ? "ok" : "unavailable")
      .int_field("connections", static_cast<std::int64_t>(worker_.hub().connection_count()))
      .int_field("uptime_seconds", static_cast<std::int64_t>(uptime));
  if (context_.store) json.string_field("store", store.up ? "ok" : "unavailable: " + store.reason);
  if (const auto* cluster = context_.cluster) {
    // Redis down leaves the status alone: the node still serves its own connections, and a
    // balancer that took every node out at once would end the chat for everyone.
    const auto& s = cluster->stats();
    json.string_field("node", cluster->node_id())
        .int_field("nodes", s.nodes.load(std::memory_order_relaxed))
        .string_field("redis", s.redis_up.load(std::memory_order_relaxed) ? "ok" : "unreachable");
  }
  json.finish();
  body.push_back('\n');
  auto status = store.up ? http::status::ok : http::status::service_unavailable;
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  if (request.method() != http::verb::head) response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::message_generator http_session::admin(const http_request& request, std::string_view path) {
  const std::string& token = worker_.config().admin_token;
  if (token.empty()) return text_response(request, http::status::not_found, "not found\n");
  if (path == "/admin" || path == "/admin/") {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      return text_response(request, http::status::method_not_allowed, "method not allowed\n");
    }
    // The page holds no data: it asks the API, with the token the operator types in.
    auto file = context_.files.resolve("admin.html");
    if (!file) return text_response(request, http::status::not_found, "not found\n");
    return serve_file(request, *file);
  }
  if (!path.starts_with("/admin/api/")) {
    return text_response(request, http::status::not_found, "not found\n");
  }
  if (!has_bearer(request, token)) {
    if (context_.refusal_log.admit(std::chrono::steady_clock::now())) {
      spdlog::info("admin {}: refused {}: no or wrong bearer token (--admin-token)", peer_.text(),
                   path);
    }
    return unauthorized(request, "the admin API needs Authorization: Bearer <--admin-token>\n");
  }
  return admin_api(request, path, {worker_.hub(), context_.bans, context_.workers, token},
                   peer_.text());
}

http::message_generator http_session::metrics(const http_request& request) {
  using namespace std::chrono;
  auto uptime = duration<double>(steady_clock::now() - context_.started).count();
  http::response<http::string_body> response{http::status::ok, request.version()};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  std::string body =
      render_metrics(context_.workers, worker_.hub(), context_.store, context_.cluster, uptime);
  if (request.method() != http::verb::head) response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace parley::net
