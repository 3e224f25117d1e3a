// Asio's SSL stream, compiled once for the load tool's wss:// connections
// (BOOST_ASIO_SEPARATE_COMPILATION keeps it out of every other file).
#include <boost/asio/ssl/impl/src.hpp>
