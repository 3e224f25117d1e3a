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
//
// OpenSSL reads and writes through a BIO of the channel's own (not two memory BIOs): ciphertext
// is copied once on each side, and an idle connection holds no buffer at all, since input and
// output are given back as soon as they are used up. One thread at a time (the connection's).
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
  bool has_undecrypted_input() const { return input_read_ < input_.size(); }

 private:
  friend struct channel_bio;
  // The BIO's two ends: OpenSSL takes ciphertext from input_ and appends it to output_.
  int take_input(char* out, int size);
  void append_output(const char* data, int size);

  SSL* ssl_;
  std::string input_;  // received ciphertext; input_read_ bytes of it are already taken
  std::size_t input_read_ = 0;
  std::string output_;  // ciphertext to send; output_sent_ bytes of it are already sent
  std::size_t output_sent_ = 0;
};

}  // namespace parley::net
