#include "parley/net/tls_channel.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace parley::net {

namespace {
int clamp_to_int(std::size_t size) {
  return size > INT_MAX ? INT_MAX : static_cast<int>(size);
}

// Empties a used-up buffer and gives its memory back: an idle connection holds none (the
// next read or write makes it again; a malloc is small beside the record's cryptography).
void release(std::string& buffer, std::size_t& used) {
  used = 0;
  std::string().swap(buffer);
}
}  // namespace

// The BIO between OpenSSL and a tls_channel: its data pointer is the channel.
struct channel_bio {
  static int write(BIO* bio, const char* data, int size) {
    static_cast<tls_channel*>(BIO_get_data(bio))->append_output(data, size);
    return size;
  }
  static int read(BIO* bio, char* out, int size) {
    BIO_clear_retry_flags(bio);
    int n = static_cast<tls_channel*>(BIO_get_data(bio))->take_input(out, size);
    if (n == 0) BIO_set_retry_read(bio);  // wait for more, not the end of the stream
    return n > 0 ? n : -1;
  }
  static long control(BIO* bio, int command, long, void*) {
    auto* channel = static_cast<tls_channel*>(BIO_get_data(bio));
    switch (command) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_PENDING:
        return static_cast<long>(channel->input_.size() - channel->input_read_);
      case BIO_CTRL_WPENDING:
        return static_cast<long>(channel->output_.size() - channel->output_sent_);
      default:
        return 0;
    }
  }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  // Made once, used by every channel, kept for the process's life.
  static const BIO_METHOD* method() {
    static BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "parley channel");
      if (!m || !BIO_meth_set_write(m, write) || !BIO_meth_set_read(m, read) ||
          !BIO_meth_set_ctrl(m, control) || !BIO_meth_set_create(m, create)) {
        throw std::bad_alloc();
      }
      return m;
    }();
    return made;
  }
};

tls_channel::tls_channel(SSL_CTX* context) : ssl_(SSL_new(context)) {
  BIO* bio = ssl_ ? BIO_new(channel_bio::method()) : nullptr;
  if (!bio) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference for both directions, owned by ssl_
  SSL_set_accept_state(ssl_);
}

tls_channel::~tls_channel() {
  SSL_free(ssl_);
}

void tls_channel::put_input(const char* data, std::size_t size) {
  input_.append(data, size);
}

int tls_channel::take_input(char* out, int size) {
  std::size_t n = std::min(input_.size() - input_read_, static_cast<std::size_t>(size));
  std::memcpy(out, input_.data() + input_read_, n);
  input_read_ += n;
  if (input_read_ == input_.size()) release(input_, input_read_);
  return static_cast<int>(n);
}

void tls_channel::append_output(const char* data, int size) {
  output_.append(data, static_cast<std::size_t>(size));
}

tls_channel::read_result tls_channel::read(char* out, std::size_t size) {
  ERR_clear_error();
  int n = SSL_read(ssl_, out, clamp_to_int(size));
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
    if (n <= 0) return false;
    plaintext.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void tls_channel::shutdown() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
}

void tls_channel::consume_output(std::size_t bytes) {
  output_sent_ += bytes;
  if (output_sent_ >= output_.size()) release(output_, output_sent_);
}

}  // namespace parley::net
