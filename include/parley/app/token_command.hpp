#pragma once
#include <CLI/App.hpp>
#include <cstdint>
#include <string>

namespace parley::app {

// `parley token --sub ID [--ttl S] --auth-secret SECRET`: prints a JWT (HS256) for an id, for
// operators and tests. An id that could never connect is refused at parsing (exit 2).
struct token_command {
  std::string subject;
  std::int64_t ttl_seconds = 3600;

  // Adds the subcommand to `cli`, its --auth-secret and --auth-secret-file filling `secret` (the
  // server's, so that they may also come before `token`). Returns it: true once parsed if given.
  CLI::App* register_on(CLI::App& cli, std::string& secret);
  // Prints the token on stdout; returns the exit status (2 without a secret).
  int run(const std::string& secret) const;
};

}  // namespace parley::app
