#pragma once
#include <CLI/App.hpp>

#include "parley/net/server_config.hpp"

namespace parley::app {

// Registers every server setting as a flag (--port) and an environment variable
// (PARLEY_PORT), with its default shown by --help and its range checked: a bad value makes
// parsing fail with a message naming the flag.
void register_flags(CLI::App& cli, net::server_config& config);

// --auth-secret and --auth-secret-file (PARLEY_AUTH_SECRET, PARLEY_AUTH_SECRET_FILE), filling
// `secret`: part of register_flags, and of `parley token` too.
void register_secret_flags(CLI::App& cli, std::string& secret);

}  // namespace parley::app
