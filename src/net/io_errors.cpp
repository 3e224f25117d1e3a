#include "parley/net/io_errors.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace parley::net {

bool is_expected_io_error(const boost::system::error_code& ec) noexcept {
  namespace error = boost::asio::error;
  return ec == error::operation_aborted || ec == error::eof || ec == error::connection_reset ||
         ec == error::broken_pipe || ec == error::not_connected || ec == error::bad_descriptor ||
         ec == boost::beast::error::timeout || ec == boost::beast::http::error::end_of_stream ||
         ec == boost::system::errc::protocol_error;  // a failed TLS handshake (scanners, typos)
}

void log_io_error(std::string_view what, const boost::system::error_code& ec) {
  if (is_expected_io_error(ec)) {
    spdlog::debug("{}: {}", what, ec.message());
  } else {
    spdlog::warn("{}: {}", what, ec.message());
  }
}

}  // namespace parley::net
