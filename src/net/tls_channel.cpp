#include "parley/net/tls_channel.hpp"

#include <openssl/err.h>

#include <climits>
#include <new>

namespace parley::net {

namespace {
// Sent ciphertext past this much capacity is given back once all is sent: a burst does not
// leave an idle connection holding a large buffer.
constexpr std::size_t kept_output_capacity = 64 * 1024;

int clamp_to_int(std::size_t size) {
  return size > INT_MAX ? INT_MAX : static_cast<int>(size);
}
}  // namespace

tls_channel::tls_channel(SSL_CTX* context)
    : ssl_(SSL_new(context)),
      network_in_(BIO_new(BIO_s_mem())),
      network_out_(BIO_new(BIO_s_mem())) {
  if (!ssl_ || !network_in_ || !network_out_) {
    BIO_free(network_in_);
    BIO_free(network_out_);
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  // An empty input buffer means "wait for more", not end of stream.
  BIO_set_mem_eof_return(network_in_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);
  SSL_set_accept_state(ssl_);
}

tls_channel::~tls_channel() {
  SSL_free(ssl_);
}

void tls_channel::put_input(const char* data, std::size_t size) {
  while (size > 0) {
    int written = BIO_write(network_in_, data, clamp_to_int(size));
    if (written <= 0) throw std::bad_alloc();
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

tls_channel::read_result tls_channel::read(char* out, std::size_t size) {
  ERR_clear_error();
  int n = SSL_read(ssl_, out, clamp_to_int(size));
  collect_output();
  if (n > 0) return {static_cast<std::size_t>(n), status::ok};
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
      return {0, status::need_input};
    case SSL_ERROR_ZERO_RETURN:
      return {0, status::closed};
    default:
      return {0, status::failed};
  }
}

bool tls_channel::write(std::string_view plaintext) {
  while (!plaintext.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, plaintext.data(), clamp_to_int(plaintext.size()));
    if (n <= 0) {
      collect_output();
      return false;
    }
    plaintext.remove_prefix(static_cast<std::size_t>(n));
  }
  collect_output();
  return true;
}

void tls_channel::shutdown() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  collect_output();
}

void tls_channel::consume_output(std::size_t bytes) {
  output_sent_ += bytes;
  if (output_sent_ < output_.size()) return;
  output_sent_ = 0;
  output_.clear();
  if (output_.capacity() > kept_output_capacity) output_.shrink_to_fit();
}

void tls_channel::collect_output() {
  while (std::size_t pending = BIO_ctrl_pending(network_out_)) {
    std::size_t old_size = output_.size();
    output_.resize(old_size + pending);
    int n = BIO_read(network_out_, output_.data() + old_size, clamp_to_int(pending));
    output_.resize(old_size + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n <= 0) return;
  }
}

}  // namespace parley::net
