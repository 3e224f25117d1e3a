// The one translation unit that compiles Asio, Beast and Boost.JSON, so that no other file
// pays for their implementation (BOOST_*_SEPARATE_COMPILATION is set for every target).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
