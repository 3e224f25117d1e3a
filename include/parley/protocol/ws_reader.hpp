#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/utf8_validator.hpp"
#include "parley/protocol/ws_frame.hpp"

namespace parley::protocol {

// What a ws_reader reports, synchronously from consume(). Payload views are valid only
// during the call.
class ws_reader_handler {
 public:
  virtual ~ws_reader_handler() = default;
  // A whole text message, valid UTF-8, at most max_text_bytes.
  virtual void on_text(std::string_view payload) = 0;
  // A whole text message over max_text_bytes (and within max_message_bytes).
  virtual void on_text_too_large(std::size_t size) = 0;
  virtual void on_binary(std::string_view payload) = 0;
  virtual void on_ping(std::string_view payload) = 0;
  virtual void on_pong() = 0;
  // The peer's close frame: code is close_code::no_status when it carried none.
  virtual void on_close(std::uint16_t code, std::string_view reason) = 0;
};

struct ws_reader_limits {
  std::size_t max_text_bytes;     // longer text: on_text_too_large
  std::size_t max_message_bytes;  // longer message of any kind: fails with 1009 unread
  std::size_t max_fragments;      // frames in one message; the frame past it fails with 1009
};

// The server side of RFC 6455 framing, with no I/O: parses client frames from a byte buffer,
// unmasks them in place, joins fragments, checks UTF-8 and the limits. After a violation it
// stops and failure() gives the close code to send; after a close frame it stops too.
//
// One per connection, so it holds little: its limits by reference (they outlive it), and a
// fragmented message's bytes only while one is in progress.
class ws_reader {
 public:
  explicit ws_reader(const ws_reader_limits& limits) : limits_(limits) {}
  explicit ws_reader(ws_reader_limits&&) = delete;  // the limits must outlive the reader

  // Handles every complete frame at the front of `data` and returns how many bytes it used;
  // the caller keeps the rest and calls again with more bytes appended.
  std::size_t consume(char* data, std::size_t size, ws_reader_handler& handler);

  // Bytes the frame at the front of the unconsumed data needs in all (0 when unknown), so a
  // caller can size its buffer once for a large frame.
  std::size_t next_frame_size() const noexcept { return next_frame_size_; }

  std::optional<close_code> failure() const noexcept { return failure_; }
  bool closed() const noexcept { return closed_; }
  bool stopped() const noexcept { return closed_ || failure_.has_value(); }
  // Between messages and still reading: a new reader would be the same.
  bool idle() const noexcept { return !stopped() && !fragmented_; }

 private:
  struct header {
    bool fin;
    opcode op;
    std::size_t header_size;
    std::uint64_t payload_size;
    unsigned char mask[4];
  };
  enum class parse { ok, need_more, failed };

  parse parse_header(const unsigned char* p, std::size_t size, header& h);
  bool over_message_limits(opcode op, std::uint64_t length) const noexcept;
  void handle_frame(const header& h, char* payload, ws_reader_handler& handler);
  void handle_control(const header& h, std::string_view payload, ws_reader_handler& handler);
  void handle_data(const header& h, std::string_view payload, ws_reader_handler& handler);
  void deliver_message(opcode op, std::string_view payload, ws_reader_handler& handler);
  void fail(close_code code) noexcept { failure_ = code; }

  const ws_reader_limits& limits_;
  std::optional<close_code> failure_;
  bool closed_ = false;
  // A fragmented message in progress: its opcode, the fragments so far and how many.
  std::optional<opcode> fragmented_;
  utf8_validator fragment_utf8_;
  std::uint32_t fragment_count_ = 0;
  std::unique_ptr<std::string> fragments_;  // set while fragmented_ is
  std::size_t next_frame_size_ = 0;
};

// Close codes a peer may send (RFC 6455 section 7.4.1 and the IANA registry).
bool is_valid_peer_close_code(std::uint16_t code) noexcept;

// XORs `size` bytes with the 4-byte mask, starting at mask offset 0.
void unmask(char* data, std::size_t size, const unsigned char mask[4]) noexcept;

}  // namespace parley::protocol
