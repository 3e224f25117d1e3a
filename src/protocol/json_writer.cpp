#include "parley/protocol/json_writer.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace parley::protocol {

namespace {
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
}  // namespace

void json_writer::append_escaped(std::string& out, std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain_start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    // Most text needs no escape: skip eight plain bytes at a time.
    while (i + 8 <= value.size() && !needs_escape(value.data() + i))
      i += 8;
    if (i == value.size()) break;
    auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(value, plain_start, i - plain_start);
    plain_start = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(value, plain_start, value.size() - plain_start);
  out.push_back('"');
}

// Keys are the server's own short names: never escaped, written with one append.
void json_writer::key(std::string_view name) {
  char text[64];
  std::size_t n = 0;
  if (!first_) text[n++] = ',';
  first_ = false;
  text[n++] = '"';
  name = name.substr(0, sizeof text - 4);
  std::memcpy(text + n, name.data(), name.size());
  n += name.size();
  text[n++] = '"';
  text[n++] = ':';
  out_.append(text, n);
}

json_writer& json_writer::string_field(std::string_view name, std::string_view value) {
  key(name);
  append_escaped(out_, value);
  return *this;
}

json_writer& json_writer::int_field(std::string_view name, std::int64_t value) {
  key(name);
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out_.append(digits, end);
  return *this;
}

json_writer& json_writer::bool_field(std::string_view name, bool value) {
  key(name);
  out_.append(value ? "true" : "false");
  return *this;
}

json_writer& json_writer::open_array(std::string_view name) {
  key(name);
  out_.push_back('[');
  first_item_ = true;
  return *this;
}

json_writer& json_writer::array_item(std::string_view value) {
  if (!first_item_) out_.push_back(',');
  first_item_ = false;
  append_escaped(out_, value);
  return *this;
}

json_writer& json_writer::close_array() {
  out_.push_back(']');
  return *this;
}

}  // namespace parley::protocol
