#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "parley/net/ws_handshake.hpp"

namespace parley::net {

// Which paths a listening port serves. Without --admin-listen the one port serves everything;
// with it the main port serves the chat (pages and WebSockets) and the admin port serves only
// the operator's paths (/metrics, /healthz, /admin and below), so a firewall can keep those
// private. A path a port does not serve is answered 404.
enum class port_role { everything, public_only, ops_only };

// /metrics, /healthz, /admin and /admin/... .
bool is_ops_path(std::string_view path);
// Whether a port of `role` serves `path`.
bool serves(port_role role, std::string_view path);

// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
std::optional<std::string_view> bearer_token(const http_request& request);
// `given == expected`, in time independent of where they differ (both are hashed first, so
// not even the length leaks). An empty `expected` matches nothing.
bool token_matches(std::string_view given, std::string_view expected);
// The request carries `Authorization: Bearer <expected>`.
bool has_bearer(const http_request& request, std::string_view expected);

// "127.0.0.1:9100" or "[::1]:9100" as an endpoint; nullopt when it is not an IP address and a
// port (a host name would need resolving).
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

}  // namespace parley::net
