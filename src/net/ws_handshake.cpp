#include "parley/net/ws_handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

#include "parley/protocol/percent_decode.hpp"

namespace parley::net {

namespace http = boost::beast::http;

namespace {

bool has_token(std::string_view header_value, std::string_view token) {
  for (auto item : http::token_list(header_value)) {
    if (boost::beast::iequals(item, token)) return true;
  }
  return false;
}

// A key is the base64 form of 16 bytes: 24 characters ending in "==".
bool is_valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  unsigned char decoded[18];
  return EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()), 24) == 18;
}

}  // namespace

std::optional<handshake_refusal> check_upgrade(const http_request& request) {
  if (request.method() != http::verb::get) {
    return handshake_refusal{http::status::method_not_allowed, "a WebSocket upgrade is a GET\n"};
  }
  if (request.version() < 11) {
    return handshake_refusal{http::status::bad_request, "a WebSocket upgrade needs HTTP/1.1\n"};
  }
  if (!has_token(request[http::field::upgrade], "websocket") ||
      !has_token(request[http::field::connection], "upgrade")) {
    return handshake_refusal{http::status::upgrade_required,
                             "this path takes a WebSocket upgrade only\n"};
  }
  if (request.count(http::field::sec_websocket_key) != 1 ||
      !is_valid_key(request[http::field::sec_websocket_key])) {
    return handshake_refusal{http::status::bad_request,
                             "one Sec-WebSocket-Key of 16 base64 bytes is required\n"};
  }
  if (request.count(http::field::sec_websocket_version) != 1 ||
      request[http::field::sec_websocket_version] != "13") {
    return handshake_refusal{http::status::upgrade_required,
                             "only WebSocket version 13 is supported\n"};
  }
  return std::nullopt;
}

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(key);
  input.append(guid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  EVP_Digest(input.data(), input.size(), digest, nullptr, EVP_sha1(), nullptr);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(length));
}

std::optional<std::string> request_token(const http_request& request) {
  std::string_view target = request.target();
  auto query_start = target.find('?');
  if (query_start != std::string_view::npos) {
    std::string_view query = target.substr(query_start + 1);
    while (!query.empty()) {
      std::string_view pair = query.substr(0, query.find('&'));
      query.remove_prefix(std::min(query.size(), pair.size() + 1));
      if (pair.starts_with("token=")) return protocol::percent_decode(pair.substr(6));
    }
  }
  for (auto item : http::token_list(request[http::field::sec_websocket_protocol])) {
    if (item.starts_with(token_subprotocol_prefix)) {
      return std::string(item.substr(token_subprotocol_prefix.size()));
    }
  }
  return std::nullopt;
}

std::optional<std::string> chosen_subprotocol(const http_request& request) {
  std::optional<std::string> token_entry;
  for (auto item : http::token_list(request[http::field::sec_websocket_protocol])) {
    if (item == "parley") return std::string(item);
    if (item.starts_with(token_subprotocol_prefix)) token_entry = std::string(item);
  }
  return token_entry;
}

std::string switching_protocols_response(std::string_view key,
                                         std::optional<std::string_view> subprotocol) {
  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ";
  response.append(websocket_accept(key));
  if (subprotocol) {
    response.append("\r\nSec-WebSocket-Protocol: ");
    response.append(*subprotocol);
  }
  response.append("\r\n\r\n");
  return response;
}

}  // namespace parley::net
