#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace parley::protocol {

// Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF), so a text message split across fragments, even inside a character, is checked
// as it arrives and rejected at the first bad byte.
class utf8_validator {
 public:
  // False once the bytes seen so far cannot begin valid UTF-8.
  bool feed(std::string_view bytes) noexcept;
  // True when everything fed is valid and no character is left unfinished.
  bool complete() const noexcept { return state_ == accept; }
  void reset() noexcept { state_ = accept; }

  // Whole-buffer check.
  static bool is_valid(std::string_view bytes) noexcept;

 private:
  static constexpr std::uint8_t accept = 0;
  static constexpr std::uint8_t reject = 1;
  std::uint8_t state_ = accept;
};

// The longest prefix of valid UTF-8 `text` that fits in `max_bytes`, cut between characters.
inline std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) noexcept {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;  // back to the first byte of the character the cut falls in
  return text.substr(0, end);
}

}  // namespace parley::protocol
