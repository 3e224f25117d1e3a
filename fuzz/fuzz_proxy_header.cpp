// libFuzzer target: the PROXY protocol v2 header parser, driven the way http_session reads a
// trusted proxy's connection: the fixed 16 bytes first (proxy_rest_bytes), then exactly the
// length they announce, then the whole header parsed. Also parses the raw input as one header,
// whatever its length.
//
// Input: the bytes a trusted proxy sends.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "fuzz_check.hpp"
#include "parley/protocol/proxy_header.hpp"

namespace {

using namespace parley::protocol;

// A carried source is the header's first address, byte for byte, and its port.
void check_source(std::span<const std::uint8_t> header, const proxy_source& source) {
  const std::uint8_t* addresses = header.data() + proxy_fixed_bytes;
  std::size_t size = source.ipv6 ? 16 : 4;
  FUZZ_CHECK(header.size() >= proxy_fixed_bytes + (source.ipv6 ? 36 : 12));
  FUZZ_CHECK(std::equal(addresses, addresses + size, source.address.begin()));
  FUZZ_CHECK(std::all_of(source.address.begin() + size, source.address.end(),
                         [](std::uint8_t b) { return b == 0; }));
  FUZZ_CHECK(source.port == (addresses[2 * size] << 8 | addresses[2 * size + 1]));
  FUZZ_CHECK((header[12] & 0x0F) == 1);  // PROXY, never LOCAL
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> input(data, size);
  auto whole = parse_proxy_header(input);
  if (auto* source = std::get_if<proxy_source>(&whole)) check_source(input, *source);
  if (size < proxy_fixed_bytes) {
    FUZZ_CHECK(std::holds_alternative<proxy_error>(whole));
    return 0;
  }
  auto rest = proxy_rest_bytes(input.first<proxy_fixed_bytes>());
  if (auto* error = std::get_if<proxy_error>(&rest)) {
    FUZZ_CHECK(std::get<proxy_error>(whole) == *error);  // the same verdict from 16 bytes
    return 0;
  }
  std::size_t length = proxy_fixed_bytes + std::get<std::size_t>(rest);
  FUZZ_CHECK(length <= max_proxy_header_bytes);
  if (size < length) return 0;  // the server would still be reading
  auto header = input.first(length);
  auto parsed = parse_proxy_header(header);
  if (auto* source = std::get_if<proxy_source>(&parsed)) check_source(header, *source);
  if (auto* error = std::get_if<proxy_error>(&parsed)) {
    FUZZ_CHECK(*error != proxy_error::bad_signature && *error != proxy_error::too_long);
  }
  return 0;
}
