#pragma once
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/container/static_vector.hpp>
#include <cstddef>
#include <memory>
#include <utility>

#include "parley/net/tls_channel.hpp"

namespace parley::net {

// Buffers gathered into one write call (well under IOV_MAX).
inline constexpr std::size_t max_buffers_per_write = 64;
using gathered_buffers =
    boost::container::static_vector<boost::asio::const_buffer, max_buffers_per_write>;

// One connection's byte stream: a TCP socket, with TLS on it when the server has a
// certificate. It offers two interfaces over the same bytes:
//  - non-blocking read_some()/write_some() with readiness waits, for ws_session's loop (reads
//    into a buffer its thread shares, gathered writes, no buffer held while idle);
//  - Beast's AsyncReadStream/AsyncWriteStream (async_read_some/async_write_some), for HTTP.
// With TLS, the handshake happens within the first reads.
class transport {
 public:
  using executor_type = boost::asio::any_io_executor;

  // `tls`: the server's TLS context, or null for plain TCP.
  transport(boost::asio::ip::tcp::socket socket, SSL_CTX* tls);

  transport(transport&& other) noexcept;
  transport& operator=(transport&&) = delete;
  ~transport();

  executor_type get_executor() noexcept { return socket_->get_executor(); }
  boost::asio::ip::tcp::socket& socket() noexcept { return *socket_; }
  bool secure() const noexcept { return tls_ != nullptr; }

  // Takes the socket out of Asio for good (the WebSocket phase, which waits through the
  // worker's poller): Asio's reactor then neither wakes for its events nor keeps state for it.
  // Only read_some(), write_some(), shutdown_send() and close() may be used afterwards.
  // Returns the descriptor, or -1 (with Asio still holding it) when Asio refuses.
  int detach();

  // Reads what is available now into `buffer`; would_block when nothing is.
  std::size_t read_some(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
  // Writes (TLS: encrypts and queues) a prefix of `buffers` now; returns its size, or 0 with
  // would_block. With TLS the ciphertext may remain queued: see output_pending().
  std::size_t write_some(const gathered_buffers& buffers, boost::system::error_code& ec);
  // Ciphertext waits for the socket; write_some() with no buffers sends what it can.
  bool output_pending() const noexcept { return tls_ && !tls_->output().empty(); }
  // TLS bytes that read_some() can use without the socket becoming readable (an
  // edge-triggered reader must come back for them by itself).
  bool input_buffered() const;

  // Calls handler(error_code) once read_some() may make progress.
  template <typename Handler>
  void async_wait_readable(Handler&& handler) {
    if (input_buffered()) {
      return boost::asio::post(
          socket_->get_executor(),
          [h = std::forward<Handler>(handler)]() mutable { h(boost::system::error_code{}); });
    }
    socket_->async_wait(boost::asio::socket_base::wait_read, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void async_wait_writable(Handler&& handler) {
    socket_->async_wait(boost::asio::socket_base::wait_write, std::forward<Handler>(handler));
  }

  // AsyncReadStream: reads into the first buffer of `buffers`.
  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    if (!tls_) return socket_->async_read_some(buffers, std::forward<Token>(token));
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        read_operation{*this, *boost::asio::buffer_sequence_begin(buffers)}, token, *socket_);
  }
  // AsyncWriteStream: with TLS, completes once the ciphertext is all sent, so that a response
  // is never left queued while the session waits for the next request.
  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    if (!tls_) return socket_->async_write_some(buffers, std::forward<Token>(token));
    gathered_buffers gathered;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && gathered.size() < gathered.capacity();
         ++it) {
      gathered.emplace_back(*it);
    }
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        write_operation{*this, gathered}, token, *socket_);
  }

  // A plain HTTP request came to the TLS port (reads fail from then on): the caller may answer
  // it in plain text.
  bool plain_http_on_tls() const noexcept { return plain_http_on_tls_; }

  // Ends our direction (TLS: after a close_notify); the peer may still send.
  void shutdown_send();
  void close();

 private:
  // The steps of async_read_some/async_write_some over TLS. Each starts with a post, so that
  // it never completes inside the initiating call.
  struct read_operation {
    transport& stream;
    boost::asio::mutable_buffer buffer;
    bool started = false;
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {});
  };
  struct write_operation {
    transport& stream;
    gathered_buffers buffers;
    std::size_t taken = 0;
    bool started = false;
    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {});
  };

  std::size_t read_tls(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
  std::size_t write_tls(const gathered_buffers& buffers, boost::system::error_code& ec);
  // Moves received ciphertext into the TLS channel; false with ec set when none came.
  bool receive_ciphertext(boost::system::error_code& ec);
  // Sends queued ciphertext; false with ec set when some remains.
  bool send_ciphertext(boost::system::error_code& ec);

  // The socket's reads and writes, through Asio or, once detached, on the descriptor.
  std::size_t socket_read(boost::asio::mutable_buffer buffer, boost::system::error_code& ec);
  template <typename ConstBufferSequence>
  std::size_t socket_write(const ConstBufferSequence& buffers, boost::system::error_code& ec);

  // Asio's socket until detach(); then only the descriptor is kept, since an idle WebSocket
  // connection holds its transport for its whole life.
  // (Declared so that the int and the flags share one word: 24 bytes, not 32.)
  std::unique_ptr<boost::asio::ip::tcp::socket> socket_;
  std::unique_ptr<tls_channel> tls_;
  int detached_ = -1;           // the descriptor once Asio has let go of it
  bool input_starved_ = false;  // the last TLS read waited for the socket
  bool received_any_ = false;
  bool plain_http_on_tls_ = false;
};

template <typename Self>
void transport::read_operation::operator()(Self& self, boost::system::error_code ec) {
  if (!started) {
    started = true;
    return boost::asio::post(std::move(self));
  }
  if (ec) return self.complete(ec, 0);
  std::size_t n = stream.read_some(buffer, ec);
  if (ec == boost::asio::error::would_block) {
    // A handshake reply still queued must reach the peer before it can answer.
    if (stream.output_pending()) return stream.async_wait_writable(std::move(self));
    return stream.async_wait_readable(std::move(self));
  }
  self.complete(ec, n);
}

template <typename Self>
void transport::write_operation::operator()(Self& self, boost::system::error_code ec) {
  if (!started) {
    started = true;
    return boost::asio::post(std::move(self));
  }
  if (ec) return self.complete(ec, taken);
  if (taken == 0 && !buffers.empty()) {
    taken = stream.write_some(buffers, ec);
    if (ec == boost::asio::error::would_block) return stream.async_wait_writable(std::move(self));
    if (ec) return self.complete(ec, 0);
  }
  if (stream.output_pending()) {
    stream.write_some({}, ec);
    if (ec == boost::asio::error::would_block) return stream.async_wait_writable(std::move(self));
  }
  self.complete(ec, taken);
}

}  // namespace parley::net
