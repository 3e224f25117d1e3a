#include "raw_client.hpp"

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
#include <random>
#include <stdexcept>

namespace parley::it {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string http_response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

bool http_response::has_header(const std::string& name) const {
  return headers.count(name) > 0;
}

std::uint16_t raw_frame::close_code() const {
  if (payload.size() < 2) return 1005;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                    static_cast<unsigned char>(payload[1]));
}

std::string client_frame(int opcode, const std::string& payload, bool fin, std::uint8_t rsv) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)));
  const std::size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>((std::uint64_t(n) >> (8 * i)) & 0xff));
  }
  unsigned char mask[4];
  for (auto& m : mask)
    m = static_cast<unsigned char>(rng());
  f.append(reinterpret_cast<char*>(mask), 4);
  for (std::size_t i = 0; i < n; ++i)
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

std::string close_payload(std::uint16_t code, const std::string& reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  return p + reason;
}

raw_client::raw_client(std::uint16_t port, int rcvbuf, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd_);
      throw std::runtime_error("bind to " + source + " failed: " + std::strerror(errno));
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(errno));
}

raw_client::~raw_client() {
  if (fd_ >= 0) ::close(fd_);
}

bool raw_client::try_send(const std::string& bytes) {
  std::size_t off = 0;
  auto deadline = steady::now() + milliseconds{5000};
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (steady::now() >= deadline) return false;
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 50);
      continue;
    }
    return false;
  }
  return true;
}

void raw_client::send(const std::string& bytes) {
  if (!try_send(bytes))
    throw std::runtime_error("raw send failed: " + std::string(std::strerror(errno)));
}

bool raw_client::fill(steady::time_point deadline) {
  if (eof_) return false;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
    if (left < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      if (steady::now() >= deadline) return false;
      continue;
    }
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    eof_ = true;  // 0: orderly EOF; <0: reset
    return false;
  }
}

bool raw_client::need(std::size_t n, steady::time_point deadline) {
  while (in_.size() < n)
    if (!fill(deadline)) return false;
  return true;
}

http_response raw_client::read_response(bool head, milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  std::size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos)
    if (!fill(deadline))
      throw std::runtime_error(eof_ ? "connection closed before a full HTTP response head"
                                    : "no full HTTP response head in time; got: " + in_);
  std::string head_text = in_.substr(0, end);
  in_.erase(0, end + 4);
  http_response r;
  std::size_t pos = head_text.find("\r\n");
  std::string status_line = head_text.substr(0, pos);
  // "HTTP/1.1 200 OK"
  auto sp1 = status_line.find(' ');
  if (sp1 == std::string::npos) throw std::runtime_error("bad status line: " + status_line);
  r.status = std::atoi(status_line.c_str() + sp1 + 1);
  auto sp2 = status_line.find(' ', sp1 + 1);
  if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
  while (pos != std::string::npos) {
    std::size_t next = head_text.find("\r\n", pos + 2);
    std::string line =
        head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    pos = next;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto name = lower(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (r.headers.count(name))
      r.headers[name] += ", " + value;
    else
      r.headers[name] = value;
  }
  if (head || r.status == 101 || r.status == 204 || r.status == 304 ||
      (r.status >= 100 && r.status < 200))
    return r;
  if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    for (;;) {
      std::size_t e;
      while ((e = in_.find("\r\n")) == std::string::npos)
        if (!fill(deadline)) throw std::runtime_error("truncated chunked body");
      std::size_t size = std::stoul(in_.substr(0, e), nullptr, 16);
      in_.erase(0, e + 2);
      if (!need(size + 2, deadline)) throw std::runtime_error("truncated chunk");
      r.body += in_.substr(0, size);
      in_.erase(0, size + 2);
      if (size == 0) break;
    }
  } else if (r.has_header("content-length")) {
    std::size_t n = std::stoul(r.header("content-length"));
    if (!need(n, deadline)) throw std::runtime_error("truncated body");
    r.body = in_.substr(0, n);
    in_.erase(0, n);
  } else {
    while (fill(deadline)) {
    }
    r.body = std::move(in_);
    in_.clear();
  }
  return r;
}

http_response raw_client::request(const std::string& raw_request, bool head, milliseconds timeout) {
  send(raw_request);
  return read_response(head, timeout);
}

http_response raw_client::upgrade(const std::string& target, const std::string& extra_headers,
                                  milliseconds timeout) {
  std::string extra = extra_headers;
  std::string version = "Sec-WebSocket-Version: 13\r\n";
  if (extra.find("Sec-WebSocket-Version") != std::string::npos) version.clear();
  return request("GET " + target +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
                     version + extra + "\r\n",
                 false, timeout);
}

void raw_client::send_frame(int opcode, const std::string& payload, bool fin) {
  send(client_frame(opcode, payload, fin));
}

std::optional<raw_frame> raw_client::read_frame(milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  if (!need(2, deadline)) return std::nullopt;
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(in_[i]); };
  raw_frame f;
  f.fin = b(0) & 0x80;
  f.rsv = (b(0) >> 4) & 7;
  f.opcode = b(0) & 0x0f;
  bool masked = b(1) & 0x80;
  std::uint64_t len = b(1) & 0x7f;
  std::size_t hdr = 2;
  if (len == 126) {
    if (!need(4, deadline)) return std::nullopt;
    len = (std::uint64_t(b(2)) << 8) | b(3);
    hdr = 4;
  } else if (len == 127) {
    if (!need(10, deadline)) return std::nullopt;
    len = 0;
    for (int i = 0; i < 8; ++i)
      len = (len << 8) | b(2 + i);
    hdr = 10;
  }
  if (masked) hdr += 4;
  if (!need(hdr + len, deadline)) return std::nullopt;
  f.payload = in_.substr(hdr, len);
  if (masked)
    for (std::size_t i = 0; i < len; ++i)
      f.payload[i] ^= in_[hdr - 4 + i % 4];
  in_.erase(0, hdr + len);
  return f;
}

std::optional<std::uint16_t> raw_client::read_until_close(milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
    if (left.count() <= 0) return std::nullopt;
    auto f = read_frame(left);
    if (!f) return std::nullopt;
    if (f->opcode == 8) return f->close_code();
  }
}

bool raw_client::wait_eof(milliseconds timeout) {
  auto deadline = steady::now() + timeout;
  while (!eof_) {
    if (!fill(deadline)) return eof_;
    in_.clear();
  }
  return true;
}

void raw_client::reset() {
  if (fd_ < 0) return;
  linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace parley::it
