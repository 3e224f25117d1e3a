#include "parley/protocol/ws_frame.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace parley::protocol {

namespace {
// Writes the header of an unmasked, final frame of `length` payload bytes; returns its size.
std::size_t write_header(unsigned char* h, opcode op, std::uint64_t length) {
  h[0] = 0x80 | static_cast<unsigned char>(op);  // FIN, no RSV bits
  if (length < 126) {
    h[1] = static_cast<unsigned char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    h[1] = 126;
    h[2] = static_cast<unsigned char>(length >> 8);
    h[3] = static_cast<unsigned char>(length);
    return 4;
  }
  h[1] = 127;
  for (int i = 0; i < 8; ++i)
    h[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
  return 10;
}

std::size_t header_size(std::uint64_t length) {
  return length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
}
}  // namespace

shared_frame frame::make(opcode op, std::initializer_list<std::string_view> parts) {
  std::size_t length = 0;
  for (std::string_view part : parts)
    length += part.size();
  std::size_t size = header_size(length) + length;
  auto* f = new (::operator new(sizeof(frame) + size)) frame(size);
  char* out = f->data() + write_header(reinterpret_cast<unsigned char*>(f->data()), op, length);
  for (std::string_view part : parts) {
    if (!part.empty()) std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return shared_frame(f);
}

void frame::destroy(const frame* f) noexcept {
  f->~frame();
  ::operator delete(const_cast<frame*>(f));
}

shared_frame make_frame_copy(opcode op, std::string_view payload) {
  return frame::make(op, {payload});
}

shared_frame make_close_frame(close_code code, std::string_view reason) {
  auto value = static_cast<std::uint16_t>(code);
  const char status[2] = {static_cast<char>(value >> 8), static_cast<char>(value & 0xFF)};
  // Control frames carry at most 125 bytes. A longer reason is cut before the character that
  // crosses the limit, so that it stays UTF-8 (RFC 6455 section 5.5.1).
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  if (keep < reason.size()) {
    while (keep > 0 && (static_cast<unsigned char>(reason[keep]) & 0xC0) == 0x80)
      --keep;
  }
  return frame::make(opcode::close, {std::string_view(status, 2), reason.substr(0, keep)});
}

}  // namespace parley::protocol
