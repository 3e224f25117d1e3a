#include "parley/net/ops_access.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <strings.h>
#include <charconv>

namespace parley::net {

bool is_ops_path(std::string_view path) {
  return path == "/metrics" || path == "/healthz" || path == "/admin" ||
         path.starts_with("/admin/");
}

bool serves(port_role role, std::string_view path) {
  switch (role) {
    case port_role::everything:
      return true;
    case port_role::public_only:
      return !is_ops_path(path);
    case port_role::ops_only:
      return is_ops_path(path);
  }
  return false;
}

std::optional<std::string_view> bearer_token(const http_request& request) {
  std::string_view header = request[boost::beast::http::field::authorization];
  constexpr std::string_view scheme = "bearer ";
  if (header.size() <= scheme.size() ||
      strncasecmp(header.data(), scheme.data(), scheme.size()) != 0) {
    return std::nullopt;
  }
  header.remove_prefix(scheme.size());
  while (!header.empty() && header.front() == ' ')
    header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ')
    header.remove_suffix(1);
  return header;
}

bool token_matches(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

bool has_bearer(const http_request& request, std::string_view expected) {
  auto token = bearer_token(request);
  return token && token_matches(*token, expected);
}

std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view host = text.substr(0, colon), port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  boost::system::error_code bad;
  auto address = boost::asio::ip::make_address(std::string(host), bad);
  if (bad) return std::nullopt;
  return boost::asio::ip::tcp::endpoint(address, static_cast<std::uint16_t>(port));
}

}  // namespace parley::net
