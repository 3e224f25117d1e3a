#include "parley/protocol/proxy_header.hpp"

#include <algorithm>
#include <cstring>

namespace parley::protocol {

namespace {
constexpr std::array<std::uint8_t, 12> signature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::uint8_t command_local = 0x0;
constexpr std::uint8_t command_proxy = 0x1;
constexpr std::uint8_t family_unspec = 0x0;
constexpr std::uint8_t family_inet = 0x1;
constexpr std::uint8_t family_inet6 = 0x2;
constexpr std::uint8_t protocol_stream = 0x1;
constexpr std::size_t inet_address_bytes = 12;   // source, destination, two ports
constexpr std::size_t inet6_address_bytes = 36;  // likewise, 16-byte addresses

std::uint16_t big_endian16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
}  // namespace

std::string_view to_string(proxy_error error) {
  switch (error) {
    case proxy_error::bad_signature:
      return "no PROXY protocol v2 signature";
    case proxy_error::version_1:
      return "PROXY protocol v1 (text) is not accepted; send v2 (HAProxy: send-proxy-v2)";
    case proxy_error::bad_version:
      return "PROXY protocol version other than 2";
    case proxy_error::bad_command:
      return "PROXY command other than LOCAL or PROXY";
    case proxy_error::unsupported_family:
      return "PROXY address family other than TCP over IPv4 or IPv6";
    case proxy_error::too_long:
      return "PROXY header longer than its limit";
    case proxy_error::short_addresses:
      return "PROXY header too short for its addresses";
  }
  return "bad PROXY header";
}

std::variant<proxy_error, std::size_t> proxy_rest_bytes(
    std::span<const std::uint8_t, proxy_fixed_bytes> fixed) {
  if (!std::equal(signature.begin(), signature.end(), fixed.begin())) {
    if (std::memcmp(fixed.data(), "PROXY ", 6) == 0) return proxy_error::version_1;
    return proxy_error::bad_signature;
  }
  if ((fixed[12] >> 4) != 2) return proxy_error::bad_version;
  std::size_t rest = big_endian16(&fixed[14]);
  if (rest > max_proxy_header_bytes - proxy_fixed_bytes) return proxy_error::too_long;
  return rest;
}

proxy_result parse_proxy_header(std::span<const std::uint8_t> header) {
  if (header.size() < proxy_fixed_bytes) return proxy_error::bad_signature;
  auto rest = proxy_rest_bytes(header.first<proxy_fixed_bytes>());
  if (auto* error = std::get_if<proxy_error>(&rest)) return *error;
  if (header.size() != proxy_fixed_bytes + std::get<std::size_t>(rest)) {
    return proxy_error::short_addresses;
  }
  std::uint8_t command = header[12] & 0x0F;
  if (command == command_local) return keep_peer{};  // the proxy's own check: family ignored
  if (command != command_proxy) return proxy_error::bad_command;
  std::uint8_t family = header[13] >> 4;
  if (family == family_unspec) return keep_peer{};  // the spec: use the real endpoints
  if ((header[13] & 0x0F) != protocol_stream) return proxy_error::unsupported_family;
  const std::uint8_t* addresses = header.data() + proxy_fixed_bytes;
  std::size_t length = header.size() - proxy_fixed_bytes;
  proxy_source source;
  if (family == family_inet) {
    if (length < inet_address_bytes) return proxy_error::short_addresses;
    std::copy_n(addresses, 4, source.address.begin());
    source.port = big_endian16(addresses + 8);
    return source;
  }
  if (family == family_inet6) {
    if (length < inet6_address_bytes) return proxy_error::short_addresses;
    source.ipv6 = true;
    std::copy_n(addresses, 16, source.address.begin());
    source.port = big_endian16(addresses + 32);
    return source;
  }
  return proxy_error::unsupported_family;
}

}  // namespace parley::protocol
