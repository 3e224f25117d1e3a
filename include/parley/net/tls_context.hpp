#pragma once
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace parley::net {

// The server's TLS settings: its certificate chain and private key, TLS 1.2 or later, no
// renegotiation, no compression. Shared by every connection of the server (read-only once
// built, which OpenSSL allows across threads).
class tls_context {
 public:
  // Loads a PEM certificate chain and a PEM private key; throws std::runtime_error naming the
  // file and OpenSSL's reason when either is unreadable or they do not match.
  tls_context(const std::string& certificate_chain_file, const std::string& private_key_file);

  SSL_CTX* native() const noexcept { return context_.get(); }

 private:
  struct free_context {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
  };
  std::unique_ptr<SSL_CTX, free_context> context_;
};

// OpenSSL's reason for the most recent failure on this thread (and clears its error queue).
std::string last_tls_error();

}  // namespace parley::net
