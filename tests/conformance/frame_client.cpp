#include "frame_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace conformance {

using clock = std::chrono::steady_clock;

std::string encode_frame(std::uint8_t opcode, std::string_view payload, const frame_options& o) {
  std::string out;
  out.push_back(static_cast<char>((o.fin ? 0x80 : 0) | ((o.rsv & 0x7) << 4) | (opcode & 0x0F)));
  std::uint64_t length = o.declared_length.value_or(payload.size());
  length_form form = o.form;
  if (form == length_form::minimal) {
    form = length < 126       ? length_form::bits7
           : length <= 0xFFFF ? length_form::bits16
                              : length_form::bits64;
  }
  char mask_bit = o.masked ? static_cast<char>(0x80) : 0;
  if (form == length_form::bits7) {
    out.push_back(static_cast<char>(mask_bit | static_cast<char>(length & 0x7F)));
  } else if (form == length_form::bits16) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  if (o.masked) {
    for (auto b : o.mask)
      out.push_back(static_cast<char>(b));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    char c = payload[i];
    out.push_back(o.masked ? static_cast<char>(c ^ o.mask[i % 4]) : c);
  }
  return out;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

std::string http_response::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

frame_client::frame_client(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval send_timeout{10, 0};  // a blocked send fails rather than hangs
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
}

frame_client::frame_client(frame_client&& other) noexcept
    : fd_(other.fd_),
      buffer_(std::move(other.buffer_)),
      eof_(other.eof_),
      data_frames_skipped_(other.data_frames_skipped_) {
  other.fd_ = -1;
}

frame_client::~frame_client() {
  if (fd_ >= 0) ::close(fd_);
}

void frame_client::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the server may already have closed; reads report it
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void frame_client::send_frame(std::uint8_t opcode, std::string_view payload,
                              const frame_options& o) {
  send(encode_frame(opcode, payload, o));
}

void frame_client::send_close(std::uint16_t code, std::string_view reason) {
  send_frame(op_close, close_payload(code, reason));
}

bool frame_client::fill(clock::time_point deadline) {
  if (eof_) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

bool frame_client::need(std::size_t bytes, clock::time_point deadline) {
  while (buffer_.size() < bytes) {
    if (!fill(deadline)) return false;
  }
  return true;
}

http_response frame_client::upgrade(const std::string& path, std::string_view extra) {
  std::string request = "GET " + path +
                        " HTTP/1.1\r\n"
                        "Host: 127.0.0.1\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
  request.append(extra);
  send(request);
  return read_response();
}

http_response frame_client::request(std::string_view request) {
  send(request);
  return read_response();
}

http_response frame_client::read_response(std::chrono::milliseconds timeout) {
  http_response response;
  auto deadline = clock::now() + timeout;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return response;
  }
  response.head = buffer_.substr(0, end + 2);
  buffer_.erase(0, end + 4);
  // Status line: HTTP/1.1 101 Switching Protocols
  auto space = response.head.find(' ');
  if (space != std::string::npos) response.status = std::atoi(response.head.c_str() + space + 1);
  std::size_t line_start = response.head.find("\r\n") + 2;
  while (line_start < response.head.size()) {
    std::size_t line_end = response.head.find("\r\n", line_start);
    std::string line = response.head.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    response.headers.emplace(name, value);
  }
  if (response.status != 101) {
    std::size_t length =
        static_cast<std::size_t>(std::atoll(response.header("content-length").c_str()));
    if (need(length, deadline)) {
      response.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    }
  }
  return response;
}

std::optional<server_frame> frame_client::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  if (!need(2, deadline)) return std::nullopt;
  auto at = [&](std::size_t i) { return static_cast<std::uint8_t>(buffer_[i]); };
  server_frame f;
  f.fin = at(0) & 0x80;
  f.rsv = (at(0) >> 4) & 0x7;
  f.opcode = at(0) & 0x0F;
  f.masked = at(1) & 0x80;
  std::uint64_t length = at(1) & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    header = 4;
    if (!need(header, deadline)) return std::nullopt;
    length = (std::uint64_t{at(2)} << 8) | at(3);
  } else if (length == 127) {
    header = 10;
    if (!need(header, deadline)) return std::nullopt;
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | at(2 + i);
  }
  if (f.masked) return std::nullopt;  // RFC 6455 5.1: a server never masks
  if (length > (std::uint64_t{1} << 32)) return std::nullopt;
  if (!need(header + length, deadline)) return std::nullopt;
  f.payload = buffer_.substr(header, length);
  buffer_.erase(0, header + length);
  return f;
}

std::optional<server_frame> frame_client::read_data_frame(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    auto f = read_frame(std::max(left, std::chrono::milliseconds(1)));
    if (!f) return std::nullopt;
    if (f->opcode == op_ping || f->opcode == op_pong) continue;
    if (f->opcode == op_close) return std::nullopt;
    return f;
  }
}

close_result frame_client::read_until_close(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  close_result result;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    auto f = read_frame(std::max(left, std::chrono::milliseconds(1)));
    if (!f) {
      result.why = eof_ ? "eof" : clock::now() >= deadline ? "timeout" : "bad frame";
      return result;
    }
    if (f->opcode != op_close) {
      if (f->opcode == op_text || f->opcode == op_binary || f->opcode == op_continuation)
        ++data_frames_skipped_;
      continue;
    }
    result.received = true;
    if (f->payload.size() >= 2) {
      result.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(f->payload[0]) << 8) |
                                               static_cast<std::uint8_t>(f->payload[1]));
      result.reason = f->payload.substr(2);
    }
    return result;
  }
}

bool frame_client::wait_eof(std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  while (!eof_) {
    buffer_.clear();
    if (!fill(deadline) && !eof_) return false;
  }
  return true;
}

bool frame_client::nothing_arrives(std::chrono::milliseconds quiet) {
  if (!buffer_.empty()) return false;
  bool got = fill(clock::now() + quiet);
  return !got && !eof_;
}

}  // namespace conformance
