#pragma once
// The client side of wss://: one OpenSSL context for a run, from which each connection makes
// its own Asio ssl::stream. Only made when the URL asks for TLS; plain ws never touches it.

#include "options.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

namespace parley::bench {

// TLS 1.2 or later. Verifies the server's certificate against --tls-ca (or the system's trust
// store) and `host` (an IP address is matched against the certificate's IP entries), unless
// --insecure. Idle connections release OpenSSL's buffers, so the load tool's own memory stays
// small at 10k connections. Throws std::runtime_error on an unreadable --tls-ca.
std::unique_ptr<boost::asio::ssl::context> make_client_tls(bench_options const& o,
                                                           boost::asio::ip::address const& host);

}  // namespace parley::bench
