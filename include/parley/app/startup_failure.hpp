#pragma once
#include <cstdint>
#include <exception>
#include <string>

namespace parley::app {

// One line saying why the server could not start, and what to change, for an exception from
// net::server's constructor: "cannot start: 127.0.0.1:8000 is already in use (another parley?);
// pick another --port". Error codes are shown by their message only, never with the Boost
// source location a system_error's what() carries.
std::string describe_startup_failure(const std::exception& failure, const std::string& host,
                                     std::uint16_t port);

}  // namespace parley::app
