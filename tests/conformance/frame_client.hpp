#pragma once
// A raw RFC 6455 client over a blocking TCP socket, for hand-built (and deliberately broken)
// frames. Every read is bounded by a deadline.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace conformance {

inline constexpr std::uint8_t op_continuation = 0x0;
inline constexpr std::uint8_t op_text = 0x1;
inline constexpr std::uint8_t op_binary = 0x2;
inline constexpr std::uint8_t op_close = 0x8;
inline constexpr std::uint8_t op_ping = 0x9;
inline constexpr std::uint8_t op_pong = 0xA;

// How a frame's payload length is written (RFC 6455 section 5.2).
enum class length_form { minimal, bits7, bits16, bits64 };

struct frame_options {
  bool fin = true;
  std::uint8_t rsv = 0;  // RSV1..3 as bits 0x4, 0x2, 0x1
  bool masked = true;
  length_form form = length_form::minimal;
  std::optional<std::uint64_t> declared_length;  // a length other than the payload's
  std::array<std::uint8_t, 4> mask = {0x37, 0xfa, 0x21, 0x3d};
};

// A client frame on the wire: header, mask key, masked payload.
std::string encode_frame(std::uint8_t opcode, std::string_view payload,
                         const frame_options& o = {});
// A close frame's payload: the code in network order, then the reason.
std::string close_payload(std::uint16_t code, std::string_view reason = "");

struct server_frame {
  bool fin = false;
  std::uint8_t rsv = 0;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::string payload;
};

struct http_response {
  int status = 0;
  std::string head;                                 // status line and headers, as received
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& lower_name) const;
};

struct close_result {
  bool received = false;   // a close frame arrived
  std::uint16_t code = 0;  // its code; 0 when it had no payload
  std::string reason;
  std::string why;  // when not received: "eof", "timeout" or "bad frame"
};

class frame_client {
 public:
  static constexpr std::chrono::milliseconds default_timeout{5000};

  explicit frame_client(std::uint16_t port);
  frame_client(frame_client&& other) noexcept;
  frame_client& operator=(frame_client&&) = delete;
  ~frame_client();

  void send(std::string_view bytes);
  void send_frame(std::uint8_t opcode, std::string_view payload, const frame_options& o = {});
  void send_close(std::uint16_t code, std::string_view reason = "");

  // Sends a standard upgrade request for `path` (plus `extra` bytes right after it, in the same
  // write) and reads the response head.
  http_response upgrade(const std::string& path, std::string_view extra = "");
  // Sends `request` as is and reads one response: head, then a Content-Length body.
  http_response request(std::string_view request);
  http_response read_response(std::chrono::milliseconds timeout = default_timeout);

  // The next frame, or nullopt on EOF, timeout or a frame that is not valid from a server.
  std::optional<server_frame> read_frame(std::chrono::milliseconds timeout = default_timeout);
  // The next text or binary frame, skipping pings and pongs (nullopt as read_frame, or on close).
  std::optional<server_frame> read_data_frame(std::chrono::milliseconds timeout = default_timeout);
  // Reads frames up to the server's close frame; data frames before it are counted.
  close_result read_until_close(std::chrono::milliseconds timeout = default_timeout);
  // True when the server closes the TCP connection within `timeout` (any bytes are skipped).
  bool wait_eof(std::chrono::milliseconds timeout = default_timeout);
  // True when nothing at all arrives within `quiet` (and the connection stays open).
  bool nothing_arrives(std::chrono::milliseconds quiet);

  int data_frames_skipped() const { return data_frames_skipped_; }
  bool eof() const { return eof_; }

 private:
  // Reads more bytes into buffer_; false on EOF, error or deadline.
  bool fill(std::chrono::steady_clock::time_point deadline);
  bool need(std::size_t bytes, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  int data_frames_skipped_ = 0;
};

}  // namespace conformance
