#pragma once
// The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt, section 2.2) that a
// trusted proxy sends before anything else on a connection, to pass on its client's address.
// A parser without I/O: net/http_session reads the bytes, this says what they mean.
//
// Version 1 (the text form, "PROXY TCP4 ...\r\n") is refused with its own reason: its length is
// known only at its CRLF, so reading it takes byte-by-byte reads or a read that may swallow the
// TLS handshake behind it; version 2 states its length in its first 16 bytes. HAProxy
// (send-proxy-v2), AWS NLB, Envoy and Traefik all send version 2.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace parley::protocol {

// The fixed part: 12-byte signature, version and command, family and protocol, length.
inline constexpr std::size_t proxy_fixed_bytes = 16;
// The longest header accepted, fixed part included. The addresses take at most 36 bytes (IPv6);
// the rest are TLVs (ALPN, authority, unique id, TLS details), which HAProxy keeps to a few
// hundred bytes. A longer one is refused before it is read, so a proxy cannot make a
// connection hold more than this.
inline constexpr std::size_t max_proxy_header_bytes = 1024;

enum class proxy_error {
  bad_signature,       // not a PROXY v2 header: the proxy does not send one
  version_1,           // the text form, which is not accepted (see above)
  bad_version,         // version nibble other than 2
  bad_command,         // command other than LOCAL (0) or PROXY (1)
  unsupported_family,  // UDP, a UNIX socket, or an unknown family or protocol
  too_long,            // longer than max_proxy_header_bytes
  short_addresses,     // the length leaves no room for the family's addresses
};

// Why a header was refused, for logs.
std::string_view to_string(proxy_error error);

// The client a header names: its address (IPv4 in the first 4 bytes, or IPv6) and port.
struct proxy_source {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> address{};
  std::uint16_t port = 0;
};

// What a valid header says: the client it carries, or `keep_peer` when the connection's own
// address stands (the LOCAL command of a proxy's health check, or the UNSPEC family).
struct keep_peer {};
using proxy_result = std::variant<proxy_error, keep_peer, proxy_source>;

// From the fixed part: the bytes that follow it (addresses and TLVs), or why the header is
// refused. Reads exactly proxy_fixed_bytes.
std::variant<proxy_error, std::size_t> proxy_rest_bytes(
    std::span<const std::uint8_t, proxy_fixed_bytes> fixed);

// Parses a whole header: the fixed part and the proxy_rest_bytes() that followed it. TLVs are
// skipped unread.
proxy_result parse_proxy_header(std::span<const std::uint8_t> header);

}  // namespace parley::protocol
