#pragma once
#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::net {

// The server side of one TLS connection, with no I/O. Ciphertext from the network goes in
// through put_input() and plaintext comes out of read(); plaintext goes in through write() and
// the ciphertext to send comes out of output(). The handshake runs inside read(), so the first
// read() calls produce no plaintext but handshake bytes in output().
class tls_channel {
 public:
  enum class status { ok, need_input, closed, failed };
  struct read_result {
    std::size_t bytes;
    status state;  // when bytes == 0: why
  };

  explicit tls_channel(SSL_CTX* context);
  ~tls_channel();
  tls_channel(const tls_channel&) = delete;
  tls_channel& operator=(const tls_channel&) = delete;

  void put_input(const char* data, std::size_t size);
  // Decrypts into out[0, size): at most one TLS record's worth per call.
  read_result read(char* out, std::size_t size);
  // Encrypts all of `plaintext` into output(); false once the connection has failed.
  bool write(std::string_view plaintext);
  // Queues the close_notify alert.
  void shutdown();

  std::string_view output() const noexcept {
    return std::string_view(output_).substr(output_sent_);
  }
  // The first `bytes` of output() were sent.
  void consume_output(std::size_t bytes);
  // Decrypted bytes that read() returns without new input.
  bool has_plaintext() const { return SSL_pending(ssl_) > 0; }
  // Received bytes not yet decrypted (possibly only part of a record).
  bool has_undecrypted_input() const { return BIO_ctrl_pending(network_in_) > 0; }

 private:
  void collect_output();

  SSL* ssl_;
  BIO* network_in_;   // owned by ssl_
  BIO* network_out_;  // owned by ssl_
  std::string output_;
  std::size_t output_sent_ = 0;
};

}  // namespace parley::net
