#pragma once
// Finds fields in the server's JSON by scanning, without building a DOM. Good for the frames
// the tool itself provokes, whose values hold no quotes or escapes; not a general JSON parser.

#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::bench {

// The raw text of the string value of `"key"` (a quoted key, e.g. "\"type\""), or empty when
// the key is absent or its value is not a string. Whitespace around the colon is allowed.
std::string_view find_string_field(std::string_view json, std::string_view quoted_key);

// The decimal number at the start of `s` over exactly `digits` characters, or nullopt.
std::optional<std::uint64_t> parse_fixed_digits(std::string_view s, std::size_t digits);

// Writes `value` as exactly `digits` decimal digits (zero padded) at `out`.
void write_fixed_digits(char* out, std::uint64_t value, std::size_t digits);

}  // namespace parley::bench
