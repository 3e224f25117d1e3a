#pragma once
#include <atomic>
#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
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
  kicked = 4003,         // an operator closed the id's connections (admin API kick or ban)
  too_slow = 4008,       // outbox over --max-outbox-bytes, or over the soft limit too long
};

class frame;
using shared_frame = boost::intrusive_ptr<const frame>;

// A complete server-to-client frame (server frames are unmasked), built once and shared by
// every connection it is sent to, from any thread. Header and payload live in one allocation
// with the reference count: a relayed message costs one malloc and one free.
class frame {
 public:
  frame(const frame&) = delete;
  frame& operator=(const frame&) = delete;

  std::string_view bytes() const noexcept { return {data(), size_}; }
  std::size_t size() const noexcept { return size_; }
  // What the header says: the opcode, and the payload after it (what crosses to another node).
  opcode op() const noexcept { return static_cast<opcode>(bytes()[0] & 0x0F); }
  std::string_view payload() const noexcept;

  // The frame whose payload is `parts` one after the other (gathered: a file frame's header
  // and payload are copied once, straight into place).
  static shared_frame make(opcode op, std::initializer_list<std::string_view> parts);

 private:
  explicit frame(std::size_t size) : size_(size) {}
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }

  friend void intrusive_ptr_add_ref(const frame* f) noexcept {
    f->references_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(const frame* f) noexcept {
    if (f->references_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(f);
  }
  static void destroy(const frame* f) noexcept;

  mutable std::atomic<std::uint32_t> references_{0};
  std::size_t size_;  // header and payload bytes; they follow the object in memory
};

shared_frame make_frame_copy(opcode op, std::string_view payload);
// A close frame with a status code and a short reason (at most 123 bytes are kept).
shared_frame make_close_frame(close_code code, std::string_view reason);

}  // namespace parley::protocol
