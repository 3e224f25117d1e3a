// Asio's SSL stream, compiled once for the TLS tests' client (the server uses OpenSSL directly;
// BOOST_ASIO_SEPARATE_COMPILATION keeps it out of every other file).
#include <boost/asio/ssl/impl/src.hpp>
