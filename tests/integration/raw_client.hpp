#pragma once
// A raw TCP client for what a WebSocket library will not send: malformed frames, half requests,
// odd handshakes, clients that never read, TCP resets. Plain POSIX sockets; every wait bounded.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace parley::it {

struct http_response {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lower_name) const;  // "" when absent
  bool has_header(const std::string& lower_name) const;
};

// One WebSocket frame as read off the wire.
struct raw_frame {
  bool fin = true;
  int opcode = 0;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong, 0 continuation
  std::uint8_t rsv = 0;
  std::string payload;
  std::uint16_t close_code() const;  // for a close frame; 1005 when it carries none
};

class raw_client {
 public:
  // Connects to 127.0.0.1:port; a receive buffer size > 0 is set before connecting (a small
  // one keeps a client that never reads from hiding megabytes in the kernel). A `source` such
  // as "127.0.0.2" binds the client to that address first, to act as another peer.
  explicit raw_client(std::uint16_t port, int rcvbuf = 0, const std::string& source = {});
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void send(const std::string& bytes);
  // Like send, but returns false instead of throwing when the peer is gone.
  bool try_send(const std::string& bytes);

  // Sends an HTTP request and reads the response (no body for HEAD or when skip_body).
  http_response request(const std::string& raw_request, bool head = false,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{3000});
  http_response read_response(bool head = false,
                              std::chrono::milliseconds timeout = std::chrono::milliseconds{3000});

  // Sends an upgrade request for `target` (extra header lines end in \r\n) and reads the answer.
  http_response upgrade(const std::string& target, const std::string& extra_headers = "",
                        std::chrono::milliseconds timeout = std::chrono::milliseconds{3000});

  // Sends one masked client frame.
  void send_frame(int opcode, const std::string& payload, bool fin = true);
  // Reads one frame; nullopt on timeout, EOF or reset (see eof()).
  std::optional<raw_frame> read_frame(std::chrono::milliseconds timeout = std::chrono::milliseconds{
                                          3000});
  // Reads frames, skipping data frames and pings, until a close frame; its code, or nullopt.
  std::optional<std::uint16_t> read_until_close(
      std::chrono::milliseconds timeout = std::chrono::milliseconds{3000});

  // True when the server closed the TCP connection (EOF or reset) within `timeout`, reading
  // and discarding anything before it.
  bool wait_eof(std::chrono::milliseconds timeout);
  bool eof() const { return eof_; }

  // SO_LINGER 0 and close: the server gets a TCP reset.
  void reset();
  int fd() const { return fd_; }

 private:
  // Reads more bytes into in_ until `deadline`; false on timeout or EOF.
  bool fill(std::chrono::steady_clock::time_point deadline);
  bool need(std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
};

// A client frame (masked) as bytes; for tests that glue frames together.
std::string client_frame(int opcode, const std::string& payload, bool fin = true,
                         std::uint8_t rsv = 0);
// A close frame payload: 2-byte code (+ reason).
std::string close_payload(std::uint16_t code, const std::string& reason = "");

}  // namespace parley::it
