#include "parley/protocol/ws_frame.hpp"

#include <algorithm>

namespace parley::protocol {

frame::frame(opcode op, std::string buffer) : buffer_(std::move(buffer)) {
  const std::uint64_t length = buffer_.size() - header_room;
  std::size_t header_size = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
  start_ = header_room - header_size;
  auto* h = reinterpret_cast<unsigned char*>(buffer_.data() + start_);
  h[0] = 0x80 | static_cast<unsigned char>(op);  // FIN, no RSV bits
  if (header_size == 2) {
    h[1] = static_cast<unsigned char>(length);
  } else if (header_size == 4) {
    h[1] = 126;
    h[2] = static_cast<unsigned char>(length >> 8);
    h[3] = static_cast<unsigned char>(length);
  } else {
    h[1] = 127;
    for (int i = 0; i < 8; ++i)
      h[2 + i] = static_cast<unsigned char>(length >> (56 - 8 * i));
  }
}

std::string frame_buffer(std::size_t payload_reserve) {
  std::string buffer(frame::header_room, '\0');
  buffer.reserve(frame::header_room + payload_reserve);
  return buffer;
}

shared_frame make_frame(opcode op, std::string buffer_with_room) {
  return std::make_shared<const frame>(op, std::move(buffer_with_room));
}

shared_frame make_frame_copy(opcode op, std::string_view payload) {
  std::string buffer = frame_buffer(payload.size());
  buffer.append(payload);
  return make_frame(op, std::move(buffer));
}

shared_frame make_close_frame(close_code code, std::string_view reason) {
  std::string buffer = frame_buffer(2 + reason.size());
  auto value = static_cast<std::uint16_t>(code);
  buffer.push_back(static_cast<char>(value >> 8));
  buffer.push_back(static_cast<char>(value & 0xFF));
  // Control frames carry at most 125 bytes. A longer reason is cut before the character that
  // crosses the limit, so that it stays UTF-8 (RFC 6455 section 5.5.1).
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  if (keep < reason.size()) {
    while (keep > 0 && (static_cast<unsigned char>(reason[keep]) & 0xC0) == 0x80)
      --keep;
  }
  buffer.append(reason.substr(0, keep));
  return make_frame(opcode::close, std::move(buffer));
}

}  // namespace parley::protocol
