#pragma once
#include <boost/system/error_code.hpp>
#include <string_view>

namespace parley::net {

// True for the errors every connection meets when it ends normally (peer closed, reset,
// our own cancel or close): these are not worth a log line.
bool is_expected_io_error(const boost::system::error_code& ec) noexcept;

// Logs an I/O error with what was being done, at debug when it is expected, warn otherwise.
void log_io_error(std::string_view what, const boost::system::error_code& ec);

}  // namespace parley::net
