#include "parley/app/startup_failure.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <filesystem>
#include <system_error>

namespace parley::app {

namespace {

std::string address_text(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string describe_socket_error(const boost::system::error_code& ec, const std::string& host,
                                  std::uint16_t port) {
  namespace error = boost::asio::error;
  std::string where = address_text(host, port);
  if (ec == error::address_in_use) {
    return "cannot start: " + where + " is already in use (another parley?); pick another --port";
  }
  if (ec == error::access_denied) {
    return "cannot start: no permission to listen on " + where +
           " (ports below 1024 need root or CAP_NET_BIND_SERVICE); pick another --port";
  }
  if (ec == boost::system::errc::address_not_available) {
    return "cannot start: " + host + " is not an address of this machine; check --host";
  }
  return "cannot start on " + where + ": " + ec.message();
}

}  // namespace

std::string describe_startup_failure(const std::exception& failure, const std::string& host,
                                     std::uint16_t port) {
  if (auto* e = dynamic_cast<const boost::system::system_error*>(&failure)) {
    return describe_socket_error(e->code(), host, port);
  }
  if (auto* e = dynamic_cast<const std::filesystem::filesystem_error*>(&failure)) {
    return "cannot start: " + e->path1().string() + ": " + e->code().message();
  }
  return std::string("cannot start: ") + failure.what();
}

}  // namespace parley::app
