#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace parley::protocol {

// RFC 6455 section 5.2 opcodes.
enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes the server sends (RFC 6455 section 7.4 and protocol.md); 4000-4999 are ours.
enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,      // server shutting down
  protocol_error = 1002,  // a frame that breaks RFC 6455
  unsupported_data = 1003,
  no_status = 1005,        // received close frame had no code (never sent)
  invalid_payload = 1007,  // invalid UTF-8 in a text message or close reason
  policy_violation = 1008,
  too_big = 1009,  // message over --max-binary-bytes
  internal_error = 1011,
  ping_timeout = 4000,   // no pong nor any frame within --ping-timeout after a ping
  token_expired = 4001,  // the token the connection was opened with has expired
  too_slow = 4008,       // outbox over --max-outbox-bytes, or over the soft limit too long
};

// A complete server-to-client frame (server frames are unmasked), built once and shared by
// every connection it is sent to. The header is written in front of the payload in place, so
// building a frame copies the payload at most once.
class frame {
 public:
  // Room kept in front of a payload for the longest header (2 + 8 bytes).
  static constexpr std::size_t header_room = 10;

  // `buffer` holds header_room bytes of anything, then the payload.
  frame(opcode op, std::string buffer);

  std::string_view bytes() const noexcept { return std::string_view(buffer_).substr(start_); }
  std::size_t size() const noexcept { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_;
};

using shared_frame = std::shared_ptr<const frame>;

// A buffer with header room, for building a payload in place before make_frame.
std::string frame_buffer(std::size_t payload_reserve);
shared_frame make_frame(opcode op, std::string buffer_with_room);
shared_frame make_frame_copy(opcode op, std::string_view payload);
// A close frame with a status code and a short reason (at most 123 bytes are kept).
shared_frame make_close_frame(close_code code, std::string_view reason);

}  // namespace parley::protocol
