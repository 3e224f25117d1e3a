#include "parley/protocol/json_writer.hpp"

#include <algorithm>
#include <charconv>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace parley::protocol {

namespace {
// The escape of one byte that needs one (at most 6 bytes, "\u00XX").
std::string_view escape_of(unsigned char c, char (&buffer)[6]) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    default:
      std::memcpy(buffer, "\\u00", 4);
      buffer[4] = hex[c >> 4];
      buffer[5] = hex[c & 0xF];
      return {buffer, 6};
  }
}
#if defined(__SSE2__)
// A bit for each of the 16 bytes at `p` that needs an escape.
int escape_mask(const char* p) {
  const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, _mm_set1_epi8(0x1F)), chunk);
  const __m128i quote = _mm_cmpeq_epi8(chunk, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash)));
}

// The length of value's first run of bytes that need no escape, sixteen bytes at a time (SSE2
// is in every x86-64); the last few are checked in a padded copy, so short ids cost one step.
std::size_t plain_prefix(std::string_view value) {
  std::size_t i = 0;
  for (; i + 16 <= value.size(); i += 16) {
    if (int mask = escape_mask(value.data() + i)) return i + __builtin_ctz(mask);
  }
  if (i == value.size()) return i;
  char tail[16];
  std::memset(tail, 'a', sizeof tail);
  std::memcpy(tail, value.data() + i, value.size() - i);
  int mask = escape_mask(tail);
  return mask ? i + __builtin_ctz(mask) : value.size();
}
#else
constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// True when some byte of the word is zero (the classic bit trick: no false negatives, and no
// false positives for the bytes below the first zero).
constexpr bool has_zero_byte(std::uint64_t word) {
  return ((word - ones) & ~word & highs) != 0;
}

// True when one of the eight bytes at `p` is a control character, '"' or '\\'.
bool needs_escape(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  bool control = ((word - ones * 0x20) & ~word & highs) != 0;
  return control || has_zero_byte(word ^ (ones * '"')) || has_zero_byte(word ^ (ones * '\\'));
}

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

// The length of value's first run of bytes that need no escape, eight bytes at a time.
std::size_t plain_prefix(std::string_view value) {
  std::size_t i = 0;
  while (i + 8 <= value.size() && !needs_escape(value.data() + i))
    i += 8;
  while (i < value.size() && !needs_escape(static_cast<unsigned char>(value[i])))
    ++i;
  return i;
}
#endif
}  // namespace

void json_writer::grow(std::size_t n) {
  out_.resize(std::max({end_ + n, 2 * out_.size(), std::size_t{64}}));
}

void json_writer::escaped(std::string_view value) {
  std::size_t plain = plain_prefix(value);
  if (plain == value.size()) {  // the common case: one copy between the quotes
    char* p = room(value.size() + 2);
    *p = '"';
    if (!value.empty()) std::memcpy(p + 1, value.data(), value.size());
    p[value.size() + 1] = '"';
    end_ += value.size() + 2;
    return;
  }
  put('"');
  while (true) {
    put(value.substr(0, plain));
    if (plain == value.size()) break;
    char buffer[6];
    put(escape_of(static_cast<unsigned char>(value[plain]), buffer));
    value.remove_prefix(plain + 1);
    plain = plain_prefix(value);
  }
  put('"');
}

json_writer& json_writer::int_field(std::string_view name, std::int64_t value) {
  key(name);
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
  return *this;
}

json_writer& json_writer::open_array(std::string_view name) {
  key(name);
  put('[');
  first_item_ = true;
  return *this;
}

json_writer& json_writer::array_item(std::string_view value) {
  if (!first_item_) put(',');
  first_item_ = false;
  escaped(value);
  return *this;
}

}  // namespace parley::protocol
