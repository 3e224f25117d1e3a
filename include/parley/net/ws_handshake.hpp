#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace parley::net {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// Why an upgrade request cannot be accepted: the HTTP status and a plain-text reason.
struct handshake_refusal {
  handshake_refusal(boost::beast::http::status status, std::string reason, std::string detail = {})
      : status(status), reason(std::move(reason)), detail(std::move(detail)) {}

  boost::beast::http::status status;
  std::string reason;  // sent to the client
  std::string detail;  // for the server's log, when it knows more than it tells (else empty)
};

// Checks an RFC 6455 opening handshake (section 4.2.1): GET, HTTP/1.1, Upgrade: websocket,
// Connection: upgrade, exactly one valid Sec-WebSocket-Key, version 13 (else 426).
std::optional<handshake_refusal> check_upgrade(const http_request& request);

// The 101 response for a request that passed check_upgrade, selecting `subprotocol` when set.
// No extension is accepted: permessage-deflate is declined by leaving it out.
std::string switching_protocols_response(std::string_view key,
                                         std::optional<std::string_view> subprotocol);

// The prefix of the subprotocol that carries a token from a browser, which cannot set other
// headers: new WebSocket(url, ["parley", "token." + jwt]).
inline constexpr std::string_view token_subprotocol_prefix = "token.";

// The client's token: `?token=` (percent-decoded) or the subprotocol "token.<JWT>".
std::optional<std::string> request_token(const http_request& request);

// The subprotocol to select: "parley" when offered, else the offered token entry (a browser
// fails a handshake that selects none of what it offered); nullopt when none was offered.
std::optional<std::string> chosen_subprotocol(const http_request& request);

// Sec-WebSocket-Accept: base64(SHA-1(key + the RFC 6455 GUID)).
std::string websocket_accept(std::string_view key);

}  // namespace parley::net
