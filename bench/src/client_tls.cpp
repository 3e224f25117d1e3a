#include "client_tls.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>

#include <stdexcept>

namespace parley::bench {
namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_client_tls(bench_options const& o,
                                              boost::asio::ip::address const& host) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  if (o.insecure) {
    ctx->set_verify_mode(ssl::verify_none);
    return ctx;
  }
  boost::system::error_code ec;
  if (o.tls_ca.empty())
    ctx->set_default_verify_paths(ec);
  else
    ctx->load_verify_file(o.tls_ca, ec);
  if (ec) throw std::runtime_error("--tls-ca " + o.tls_ca + ": " + ec.message());
  ctx->set_verify_mode(ssl::verify_peer);
  ctx->set_verify_callback(ssl::host_name_verification(host.to_string()));
  return ctx;
}

}  // namespace parley::bench
