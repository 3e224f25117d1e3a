#include "parley/protocol/utf8_validator.hpp"

#include <cstring>

namespace parley::protocol {

namespace {
// States of the decoder: which bytes may come next.
enum state : std::uint8_t {
  s_accept = 0,
  s_reject = 1,
  s_tail1,  // one continuation byte (80..BF) left
  s_tail2,  // two continuation bytes left
  s_tail3,  // three left
  s_e0,     // after E0: A0..BF then one tail (no overlong)
  s_ed,     // after ED: 80..9F then one tail (no surrogates)
  s_f0,     // after F0: 90..BF then two tails (no overlong)
  s_f4,     // after F4: 80..8F then two tails (nothing past U+10FFFF)
};

std::uint8_t step(std::uint8_t st, unsigned char b) noexcept {
  auto in = [b](unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  switch (st) {
    case s_accept:
      if (b < 0x80) return s_accept;
      if (in(0xC2, 0xDF)) return s_tail1;
      if (b == 0xE0) return s_e0;
      if (b == 0xED) return s_ed;
      if (in(0xE1, 0xEF)) return s_tail2;
      if (b == 0xF0) return s_f0;
      if (in(0xF1, 0xF3)) return s_tail3;
      if (b == 0xF4) return s_f4;
      return s_reject;
    case s_tail1:
      return in(0x80, 0xBF) ? s_accept : s_reject;
    case s_tail2:
      return in(0x80, 0xBF) ? s_tail1 : s_reject;
    case s_tail3:
      return in(0x80, 0xBF) ? s_tail2 : s_reject;
    case s_e0:
      return in(0xA0, 0xBF) ? s_tail1 : s_reject;
    case s_ed:
      return in(0x80, 0x9F) ? s_tail1 : s_reject;
    case s_f0:
      return in(0x90, 0xBF) ? s_tail2 : s_reject;
    case s_f4:
      return in(0x80, 0x8F) ? s_tail2 : s_reject;
    default:
      return s_reject;
  }
}
}  // namespace

bool utf8_validator::feed(std::string_view bytes) noexcept {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end && state_ != reject) {
    // Fast path: eight ASCII bytes at a time between characters.
    if (state_ == accept && end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    state_ = step(state_, static_cast<unsigned char>(*p++));
  }
  return state_ != reject;
}

bool utf8_validator::is_valid(std::string_view bytes) noexcept {
  utf8_validator v;
  return v.feed(bytes) && v.complete();
}

}  // namespace parley::protocol
