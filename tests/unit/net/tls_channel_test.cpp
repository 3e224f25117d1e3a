// tls_channel against an OpenSSL client over memory: the handshake, data both ways in pieces of
// any size, close_notify, and garbage input.
#include "parley/net/tls_channel.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace parley::net {
namespace {

// A server context with a fresh self-signed P-256 certificate for "localhost".
SSL_CTX* make_server_context() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509_sign(certificate, key, EVP_sha256());
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(context, certificate);
  SSL_CTX_use_PrivateKey(context, key);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return context;
}

// An OpenSSL client on memory BIOs that exchanges bytes with a tls_channel, `chunk` bytes at
// a time.
class tls_pair : public ::testing::Test {
 protected:
  void SetUp() override {
    server_context_ = make_server_context();
    client_context_ = SSL_CTX_new(TLS_client_method());
    server_ = std::make_unique<tls_channel>(server_context_);
    client_ = SSL_new(client_context_);
    client_in_ = BIO_new(BIO_s_mem());
    client_out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(client_in_, -1);
    SSL_set_bio(client_, client_in_, client_out_);
    SSL_set_connect_state(client_);
  }
  void TearDown() override {
    server_.reset();
    SSL_free(client_);
    SSL_CTX_free(client_context_);
    SSL_CTX_free(server_context_);
  }

  // Moves bytes both ways until neither side has any left; returns what the server read.
  std::string pump(std::size_t chunk = 1 << 20) {
    std::string read;
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      char buffer[4096];
      int n;
      while ((n = BIO_read(client_out_, buffer, static_cast<int>(std::min(chunk, sizeof buffer)))) >
             0) {
        server_->put_input(buffer, static_cast<std::size_t>(n));
        moved = true;
        for (;;) {
          auto [bytes, state] = server_->read(buffer, sizeof buffer);
          if (bytes == 0) {
            last_state_ = state;
            break;
          }
          read.append(buffer, bytes);
        }
      }
      std::string_view out = server_->output();
      if (!out.empty()) {
        std::size_t take = std::min(out.size(), chunk);
        BIO_write(client_in_, out.data(), static_cast<int>(take));
        server_->consume_output(take);
        moved = true;
      }
      SSL_do_handshake(client_);
      if (!moved && BIO_ctrl_pending(client_out_) == 0) break;
    }
    return read;
  }

  std::string client_read() {
    std::string read;
    char buffer[4096];
    int n;
    while ((n = SSL_read(client_, buffer, sizeof buffer)) > 0)
      read.append(buffer, static_cast<std::size_t>(n));
    return read;
  }

  SSL_CTX* server_context_ = nullptr;
  SSL_CTX* client_context_ = nullptr;
  std::unique_ptr<tls_channel> server_;
  SSL* client_ = nullptr;
  BIO* client_in_ = nullptr;
  BIO* client_out_ = nullptr;
  tls_channel::status last_state_ = tls_channel::status::ok;
};

TEST_F(tls_pair, HandshakeCompletesAndDataFlowsBothWays) {
  SSL_do_handshake(client_);
  EXPECT_EQ(pump(), "");
  ASSERT_TRUE(SSL_is_init_finished(client_));
  ASSERT_EQ(SSL_write(client_, "hello server", 12), 12);
  EXPECT_EQ(pump(), "hello server");
  ASSERT_TRUE(server_->write("hello client"));
  pump();
  EXPECT_EQ(client_read(), "hello client");
}

TEST_F(tls_pair, BytesArrivingOneAtATimeMakeTheSameStream) {
  SSL_do_handshake(client_);
  pump(1);
  ASSERT_TRUE(SSL_is_init_finished(client_));
  std::string message(50000, 'x');
  for (std::size_t i = 0; i < message.size(); ++i)
    message[i] = static_cast<char>('a' + i % 26);
  ASSERT_EQ(SSL_write(client_, message.data(), static_cast<int>(message.size())),
            static_cast<int>(message.size()));
  EXPECT_EQ(pump(7), message);
  EXPECT_EQ(last_state_, tls_channel::status::need_input);
}

TEST_F(tls_pair, ShutdownSendsCloseNotifyAndAClientCloseNotifyReadsAsClosed) {
  SSL_do_handshake(client_);
  pump();
  server_->shutdown();
  pump();
  char byte;
  EXPECT_EQ(SSL_get_error(client_, SSL_read(client_, &byte, 1)), SSL_ERROR_ZERO_RETURN);
  SSL_shutdown(client_);
  pump();
  EXPECT_EQ(last_state_, tls_channel::status::closed);
}

TEST_F(tls_pair, GarbageInsteadOfAHandshakeFails) {
  std::string garbage(100, '\x16');
  server_->put_input(garbage.data(), garbage.size());
  char buffer[64];
  auto [bytes, state] = server_->read(buffer, sizeof buffer);
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(state, tls_channel::status::failed);
  EXPECT_FALSE(server_->write("anything"));
}

}  // namespace
}  // namespace parley::net
