#include "parley/protocol/ws_reader.hpp"

#include <cstring>

namespace parley::protocol {

namespace {
bool is_control(opcode op) noexcept {
  return static_cast<std::uint8_t>(op) & 0x8;
}

bool is_known(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}
}  // namespace

bool is_valid_peer_close_code(std::uint16_t code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

void unmask(char* data, std::size_t size, const unsigned char mask[4]) noexcept {
  std::uint32_t mask32;
  std::memcpy(&mask32, mask, 4);
  std::uint64_t mask64 = (std::uint64_t{mask32} << 32) | mask32;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= mask64;
    std::memcpy(data + i, &word, 8);
  }
  for (; i < size; ++i)
    data[i] = static_cast<char>(data[i] ^ mask[i & 3]);
}

std::size_t ws_reader::consume(char* data, std::size_t size, ws_reader_handler& handler) {
  std::size_t used = 0;
  next_frame_size_ = 0;
  while (!stopped()) {
    header h;
    auto* p = reinterpret_cast<const unsigned char*>(data + used);
    parse result = parse_header(p, size - used, h);
    if (result != parse::ok) break;
    std::size_t frame_size = h.header_size + h.payload_size;
    if (size - used < frame_size) {
      next_frame_size_ = frame_size;
      break;
    }
    handle_frame(h, data + used + h.header_size, handler);
    used += frame_size;
  }
  return used;
}

ws_reader::parse ws_reader::parse_header(const unsigned char* p, std::size_t size, header& h) {
  if (size < 2) return parse::need_more;
  h.fin = p[0] & 0x80;
  if (p[0] & 0x70) return fail(close_code::protocol_error), parse::failed;  // no extensions
  if (!is_known(p[0] & 0x0F)) return fail(close_code::protocol_error), parse::failed;
  h.op = static_cast<opcode>(p[0] & 0x0F);
  if (!(p[1] & 0x80)) return fail(close_code::protocol_error), parse::failed;  // client masks
  std::uint64_t length = p[1] & 0x7F;
  std::size_t length_bytes = length == 126 ? 2 : length == 127 ? 8 : 0;
  h.header_size = 2 + length_bytes + 4;
  if (size < h.header_size) return parse::need_more;
  if (length_bytes) {
    length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i)
      length = (length << 8) | p[2 + i];
    if (length >> 63) return fail(close_code::protocol_error), parse::failed;
  }
  if (is_control(h.op) && (!h.fin || length > 125)) {
    return fail(close_code::protocol_error), parse::failed;
  }
  if (over_message_limits(h.op, length)) return fail(close_code::too_big), parse::failed;
  h.payload_size = length;
  std::memcpy(h.mask, p + 2 + length_bytes, 4);
  return parse::ok;
}

// Whether a frame of `length` bytes takes its message past the size or fragment limit. Judged
// from the header, before any of the frame is read into memory. A control frame is no part of
// the message it interrupts; a continuation with nothing to continue is left to handle_data.
bool ws_reader::over_message_limits(opcode op, std::uint64_t length) const noexcept {
  if (length > limits_.max_message_bytes) return true;
  if (op != opcode::continuation || !fragmented_) return false;
  return fragments_->size() + length > limits_.max_message_bytes ||
         fragment_count_ >= limits_.max_fragments;
}

void ws_reader::handle_frame(const header& h, char* payload, ws_reader_handler& handler) {
  unmask(payload, h.payload_size, h.mask);
  std::string_view view(payload, h.payload_size);
  if (is_control(h.op)) {
    handle_control(h, view, handler);
  } else {
    handle_data(h, view, handler);
  }
}

void ws_reader::handle_control(const header& h, std::string_view payload,
                               ws_reader_handler& handler) {
  switch (h.op) {
    case opcode::ping:
      return handler.on_ping(payload);
    case opcode::pong:
      return handler.on_pong();
    default:
      break;
  }
  if (payload.size() == 1) return fail(close_code::protocol_error);
  std::uint16_t code = static_cast<std::uint16_t>(close_code::no_status);
  std::string_view reason;
  if (payload.size() >= 2) {
    code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1]));
    if (!is_valid_peer_close_code(code)) return fail(close_code::protocol_error);
    reason = payload.substr(2);
    if (!utf8_validator::is_valid(reason)) return fail(close_code::invalid_payload);
  }
  closed_ = true;
  handler.on_close(code, reason);
}

void ws_reader::handle_data(const header& h, std::string_view payload, ws_reader_handler& handler) {
  if (h.op == opcode::continuation) {
    if (!fragmented_) return fail(close_code::protocol_error);  // nothing to continue
  } else if (fragmented_) {
    return fail(close_code::protocol_error);  // a new message inside a fragmented one
  }
  if (h.fin && !fragmented_) return deliver_message(h.op, payload, handler);

  if (!fragmented_) {
    fragmented_ = h.op;
    fragment_utf8_.reset();
    fragment_count_ = 0;
    fragments_ = std::make_unique<std::string>();
  }
  ++fragment_count_;
  if (*fragmented_ == opcode::text && !fragment_utf8_.feed(payload)) {
    return fail(close_code::invalid_payload);  // fail fast, inside the message
  }
  fragments_->append(payload);
  if (!h.fin) return;
  opcode op = *fragmented_;
  fragmented_.reset();
  if (op == opcode::text && !fragment_utf8_.complete()) return fail(close_code::invalid_payload);
  std::unique_ptr<std::string> message = std::move(fragments_);
  deliver_message(op, *message, handler);
}

void ws_reader::deliver_message(opcode op, std::string_view payload, ws_reader_handler& handler) {
  if (op == opcode::binary) return handler.on_binary(payload);
  // A fragmented text was checked as it arrived; checking it again is cheap and keeps one path.
  if (!utf8_validator::is_valid(payload)) return fail(close_code::invalid_payload);
  if (payload.size() > limits_.max_text_bytes) return handler.on_text_too_large(payload.size());
  handler.on_text(payload);
}

}  // namespace parley::protocol
