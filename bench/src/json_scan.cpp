#include "json_scan.hpp"

namespace parley::bench {
namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
}  // namespace

std::string_view find_string_field(std::string_view json, std::string_view quoted_key) {
  std::size_t pos = 0;
  // Bounded: each turn moves past one occurrence of the key.
  while ((pos = json.find(quoted_key, pos)) != std::string_view::npos) {
    std::size_t i = pos + quoted_key.size();
    pos = i;
    while (i < json.size() && is_space(json[i]))
      ++i;
    if (i >= json.size() || json[i] != ':') continue;  // it was a value, not a key
    ++i;
    while (i < json.size() && is_space(json[i]))
      ++i;
    if (i >= json.size() || json[i] != '"') return {};
    std::size_t const end = json.find('"', i + 1);
    if (end == std::string_view::npos) return {};
    return json.substr(i + 1, end - i - 1);
  }
  return {};
}

std::optional<std::uint64_t> parse_fixed_digits(std::string_view s, std::size_t digits) {
  if (s.size() < digits) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    unsigned const d = static_cast<unsigned char>(s[i]) - '0';
    if (d > 9) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

void write_fixed_digits(char* out, std::uint64_t value, std::size_t digits) {
  // Two digits per division: this runs twice for every message sent.
  static constexpr char pairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  std::size_t i = digits;
  for (; i >= 2; i -= 2) {
    std::uint64_t const r = value % 100;
    value /= 100;
    out[i - 2] = pairs[2 * r];
    out[i - 1] = pairs[2 * r + 1];
  }
  if (i == 1) out[0] = static_cast<char>('0' + value % 10);
}

}  // namespace parley::bench
