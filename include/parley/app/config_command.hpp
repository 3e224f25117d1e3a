#pragma once
#include <cstdio>
#include <string>

#include "parley/app/command_line.hpp"

namespace parley::app {

// `parley config check FILE`: reads FILE as `parley --config FILE` would (the environment
// included), checks every key and value, and loads the TLS certificate and key it names. Prints
// "FILE: ok" on stdout and returns 0, or prints every error (file, line, key, why) on stderr and
// returns 2.
int check_config(const std::string& file);

// `parley config print`: the settings in effect (flags, environment, --config file, defaults)
// as a TOML file that `config check` accepts, each value followed by where it came from. A
// secret is never printed: its line is a comment saying whether it is set.
void print_config(const command_line& settings, std::FILE* out);

}  // namespace parley::app
