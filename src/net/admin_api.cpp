#include "parley/net/admin_api.hpp"

#include <spdlog/spdlog.h>
#include <boost/beast/http/string_body.hpp>
#include <charconv>

#include "parley/core/clock.hpp"
#include "parley/protocol/client_id.hpp"
#include "parley/protocol/error_code.hpp"
#include "parley/protocol/json_writer.hpp"
#include "parley/protocol/percent_decode.hpp"

namespace parley::net {

namespace http = boost::beast::http;

namespace {

http::message_generator reply(const http_request& request, http::status status, std::string body,
                              std::string_view type = "application/json") {
  http::response<http::string_body> response{status, request.version()};
  response.set(http::field::content_type, type);
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  if (request.method() != http::verb::head) response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::message_generator text(const http_request& request, http::status status,
                             std::string_view body) {
  return reply(request, status, std::string(body), "text/plain; charset=utf-8");
}

http::message_generator wrong_method(const http_request& request, std::string_view allowed) {
  http::response<http::string_body> response{http::status::method_not_allowed, request.version()};
  response.set(http::field::allow, allowed);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(request.keep_alive());
  response.body() = "method not allowed\n";
  response.prepare_payload();
  return response;
}

std::uint64_t sum(std::span<const std::unique_ptr<worker>> workers,
                  const core::counter core::counters::*which) {
  std::uint64_t total = 0;
  for (const auto& w : workers)
    total += (w->stats().*which).get();
  return total;
}

std::string connections_json(std::string_view id, core::hub& hub) {
  std::string body;
  protocol::json_writer json(body);
  json.string_field("id", id).open_array("connections");
  for (const auto& connection : hub.connections_of(id)) {
    core::sink::description d = connection->describe();
    json.open_object_item()
        .string_field("peer", d.peer)
        .int_field("connected_at", d.connected_at_ms)
        .int_field("messages_in", static_cast<std::int64_t>(d.messages_in))
        .int_field("messages_out", static_cast<std::int64_t>(d.messages_out))
        .close_object();
  }
  json.close_array().finish();
  body.push_back('\n');
  return body;
}

// Closes every connection of `id` with 4003; how many there were.
std::size_t kick(std::string_view id, core::hub& hub) {
  auto connections = hub.connections_of(id);
  for (const auto& connection : connections)
    connection->request_close(protocol::close_code::kicked, "kicked");
  return connections.size();
}

std::string stats_json(const admin_scope& scope) {
  using c = core::counters;
  std::uint64_t rate_limited = 0;
  for (const auto& w : scope.workers)
    rate_limited +=
        w->stats().errors[static_cast<std::size_t>(protocol::error_code::rate_limited)].get();
  std::string body;
  protocol::json_writer json(body);
  json.int_field("time_ms", core::unix_millis())
      .int_field("connections", static_cast<std::int64_t>(scope.hub.connection_count()))
      .int_field("ids_online", static_cast<std::int64_t>(scope.hub.who(0).total))
      .int_field("messages_in", static_cast<std::int64_t>(sum(scope.workers, &c::messages_in)))
      .int_field("messages_out", static_cast<std::int64_t>(sum(scope.workers, &c::messages_out)))
      .int_field("slow_consumer_closes",
                 static_cast<std::int64_t>(sum(scope.workers, &c::closes_slow_consumer)))
      .int_field("rate_limited", static_cast<std::int64_t>(rate_limited))
      .int_field("address_refusals",
                 static_cast<std::int64_t>(sum(scope.workers, &c::address_refusals)))
      .int_field("kicked", static_cast<std::int64_t>(sum(scope.workers, &c::closes_kicked)))
      .int_field("bans", static_cast<std::int64_t>(scope.bans.size()));
  json.finish();
  body.push_back('\n');
  return body;
}

http::message_generator ban(const http_request& request, const std::string& id,
                            const admin_scope& scope, std::string_view who) {
  auto seconds_text = query_param(request.target(), "seconds");
  std::int64_t seconds = 0;
  if (seconds_text) {
    auto [end, ec] =
        std::from_chars(seconds_text->data(), seconds_text->data() + seconds_text->size(), seconds);
    if (ec != std::errc{} || end != seconds_text->data() + seconds_text->size()) seconds = 0;
  }
  if (seconds < 1 || seconds > max_ban_seconds) {
    return text(
        request, http::status::bad_request,
        "seconds must be a whole number from 1 to " + std::to_string(max_ban_seconds) + "\n");
  }
  std::int64_t now = core::unix_millis(), until = now + seconds * 1000;
  if (!scope.bans.ban(id, until, now)) {
    spdlog::warn("admin {}: ban id={} refused: {} bans held (--max-banned-ids)", who, id,
                 scope.bans.max_ids());
    return text(request, http::status::service_unavailable,
                "the ban table is full (--max-banned-ids)\n");
  }
  std::size_t closed = kick(id, scope.hub);
  spdlog::info("admin {}: ban id={} for {} s ({} connections closed)", who, id, seconds, closed);
  std::string body;
  protocol::json_writer json(body);
  json.string_field("id", id)
      .int_field("banned_until", until)
      .int_field("closed", static_cast<std::int64_t>(closed));
  json.finish();
  body.push_back('\n');
  return reply(request, http::status::ok, std::move(body));
}

}  // namespace

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return protocol::percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

http::message_generator admin_api(const http_request& request, std::string_view path,
                                  const admin_scope& scope, std::string_view who) {
  bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  bool post = request.method() == http::verb::post;
  if (path == "/admin/api/stats") {
    if (!get) return wrong_method(request, "GET, HEAD");
    return reply(request, http::status::ok, stats_json(scope));
  }
  bool connections = path == "/admin/api/connections";
  bool kicking = path == "/admin/api/kick", banning = path == "/admin/api/ban";
  if (!connections && !kicking && !banning) {
    return text(request, http::status::not_found, "not found\n");
  }
  if (connections && !get) return wrong_method(request, "GET, HEAD");
  if (!connections && !post) return wrong_method(request, "POST");
  auto id = query_param(request.target(), "id");
  if (!id || !protocol::is_valid_client_id(*id)) {
    return text(request, http::status::bad_request, "?id= must be a client id\n");
  }
  if (connections) return reply(request, http::status::ok, connections_json(*id, scope.hub));
  if (banning) return ban(request, *id, scope, who);
  std::size_t closed = kick(*id, scope.hub);
  spdlog::info("admin {}: kick id={} ({} connections closed)", who, *id, closed);
  std::string body;
  protocol::json_writer json(body);
  json.string_field("id", *id).int_field("closed", static_cast<std::int64_t>(closed));
  json.finish();
  body.push_back('\n');
  return reply(request, http::status::ok, std::move(body));
}

}  // namespace parley::net
