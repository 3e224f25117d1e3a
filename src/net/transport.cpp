#include "parley/net/transport.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <string>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>

#include "parley/net/tls_context.hpp"

namespace parley::net {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// Ciphertext moved from the socket per read: one full TLS record and its overhead.
constexpr std::size_t ciphertext_read_bytes = 16 * 1024 + 512;
// Plaintext encrypted per write call: a few records; the rest waits for the next call, so a
// connection's queued ciphertext stays bounded.
constexpr std::size_t plaintext_per_write = 64 * 1024;

// What a recv() or sendmsg() on the detached descriptor returned, as Asio would report it:
// would_block when nothing could be done, eof for a read of nothing.
std::size_t finish_io(ssize_t n, error_code& ec, bool reading) {
  if (n > 0 || (n == 0 && !reading)) {
    ec = {};
    return static_cast<std::size_t>(n);
  }
  if (n == 0) {
    ec = asio::error::eof;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    ec = asio::error::would_block;
  } else {
    ec = error_code(errno, asio::error::get_system_category());
  }
  return 0;
}

error_code tls_failure() {
  spdlog::debug("TLS: {}", last_tls_error());
  return make_error_code(boost::system::errc::protocol_error);
}
}  // namespace

transport::transport(asio::ip::tcp::socket socket, SSL_CTX* tls)
    : socket_(std::make_unique<asio::ip::tcp::socket>(std::move(socket))),
      tls_(tls ? std::make_unique<tls_channel>(tls) : nullptr) {
  error_code ignored;
  socket_->non_blocking(true, ignored);
}

transport::transport(transport&& other) noexcept
    : socket_(std::move(other.socket_)),
      tls_(std::move(other.tls_)),
      detached_(std::exchange(other.detached_, -1)),
      input_starved_(other.input_starved_),
      received_any_(other.received_any_),
      plain_http_on_tls_(other.plain_http_on_tls_) {}

transport::~transport() {
  close();
}

int transport::detach() {
  error_code ec;
  int fd = socket_->release(ec);
  if (ec) return -1;
  socket_.reset();
  return detached_ = fd;
}

std::size_t transport::read_some(asio::mutable_buffer buffer, error_code& ec) {
  if (!tls_) return socket_read(buffer, ec);
  return read_tls(buffer, ec);
}

std::size_t transport::write_some(const gathered_buffers& buffers, error_code& ec) {
  if (!tls_) return socket_write(buffers, ec);
  return write_tls(buffers, ec);
}

std::size_t transport::socket_read(asio::mutable_buffer buffer, error_code& ec) {
  if (detached_ < 0) return socket_->read_some(buffer, ec);
  ssize_t n;
  do {
    n = ::recv(detached_, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  return finish_io(n, ec, true);
}

template <typename ConstBufferSequence>
std::size_t transport::socket_write(const ConstBufferSequence& buffers, error_code& ec) {
  if (detached_ < 0) return socket_->write_some(buffers, ec);
  iovec parts[max_buffers_per_write];
  std::size_t count = 0;
  for (auto it = asio::buffer_sequence_begin(buffers);
       it != asio::buffer_sequence_end(buffers) && count < max_buffers_per_write; ++it) {
    parts[count++] = {const_cast<void*>(it->data()), it->size()};
  }
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = count;
  ssize_t n;
  do {
    n = ::sendmsg(detached_, &message, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return finish_io(n, ec, false);
}

bool transport::input_buffered() const {
  return tls_ && (tls_->has_plaintext() || (!input_starved_ && tls_->has_undecrypted_input()));
}

// Fills `buffer` as far as the received bytes go; an error after some data waits for the next
// call, which meets it again.
std::size_t transport::read_tls(asio::mutable_buffer buffer, error_code& ec) {
  ec = {};
  error_code send_ec;
  send_ciphertext(send_ec);  // queued handshake bytes first; what remains waits for writability
  char* out = static_cast<char*>(buffer.data());
  std::size_t total = 0;
  while (total < buffer.size()) {
    auto [n, state] = tls_->read(out + total, buffer.size() - total);
    total += n;
    if (n > 0) continue;
    if (state == tls_channel::status::need_input) {
      send_ciphertext(send_ec);
      if (receive_ciphertext(ec)) continue;
      input_starved_ = ec == asio::error::would_block;
    } else {
      ec = state == tls_channel::status::closed ? error_code(asio::error::eof) : tls_failure();
    }
    break;
  }
  if (total > 0) ec = {};
  return total;
}

std::size_t transport::write_tls(const gathered_buffers& buffers, error_code& ec) {
  ec = {};
  if (!send_ciphertext(ec)) return 0;  // earlier ciphertext goes first
  // One plaintext run per call, so small frames share TLS records.
  thread_local std::string plaintext;
  plaintext.clear();
  for (const asio::const_buffer& b : buffers) {
    std::size_t take = std::min(b.size(), plaintext_per_write - plaintext.size());
    plaintext.append(static_cast<const char*>(b.data()), take);
    if (plaintext.size() == plaintext_per_write) break;
  }
  if (plaintext.empty()) return 0;
  if (!tls_->write(plaintext)) {
    ec = tls_failure();
    return 0;
  }
  if (!send_ciphertext(ec) && ec == asio::error::would_block) ec = {};  // sent when writable
  return plaintext.size();
}

bool transport::receive_ciphertext(error_code& ec) {
  char ciphertext[ciphertext_read_bytes];
  std::size_t n = socket_read(asio::buffer(ciphertext), ec);
  if (ec) return false;
  if (!received_any_ && n > 0) {
    received_any_ = true;
    // Every TLS connection opens with a handshake record (0x16); a letter is an HTTP method.
    if (ciphertext[0] >= 'A' && ciphertext[0] <= 'Z') {
      plain_http_on_tls_ = true;
      ec = make_error_code(boost::system::errc::protocol_error);
      return false;
    }
  }
  tls_->put_input(ciphertext, n);
  input_starved_ = false;
  return true;
}

bool transport::send_ciphertext(error_code& ec) {
  while (!tls_->output().empty()) {
    std::string_view out = tls_->output();
    std::size_t n = socket_write(asio::buffer(out.data(), out.size()), ec);
    if (ec) return false;
    tls_->consume_output(n);
  }
  return true;
}

void transport::shutdown_send() {
  error_code ignored;
  if (tls_) {
    tls_->shutdown();
    send_ciphertext(ignored);
  }
  if (detached_ >= 0) {
    ::shutdown(detached_, SHUT_WR);
  } else if (socket_) {
    socket_->shutdown(asio::socket_base::shutdown_send, ignored);
  }
}

void transport::close() {
  if (detached_ >= 0) ::close(std::exchange(detached_, -1));
  error_code ignored;
  if (socket_) socket_->close(ignored);
}

}  // namespace parley::net
