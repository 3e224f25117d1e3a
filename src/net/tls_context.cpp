#include "parley/net/tls_context.hpp"

#include <openssl/err.h>

#include <stdexcept>

namespace parley::net {

std::string last_tls_error() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

tls_context::tls_context(const std::string& certificate_chain_file,
                         const std::string& private_key_file)
    : context_(SSL_CTX_new(TLS_server_method())) {
  SSL_CTX* context = context_.get();
  if (!context) throw std::runtime_error("TLS: " + last_tls_error());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(
      context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection gives its record buffers back: thousands of idle chats stay small.
  SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(context, certificate_chain_file.c_str()) != 1) {
    throw std::runtime_error("TLS certificate " + certificate_chain_file + ": " + last_tls_error());
  }
  if (SSL_CTX_use_PrivateKey_file(context, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("TLS key " + private_key_file + ": " + last_tls_error());
  }
  if (SSL_CTX_check_private_key(context) != 1) {
    throw std::runtime_error("TLS key " + private_key_file +
                             " does not match the certificate: " + last_tls_error());
  }
}

}  // namespace parley::net
