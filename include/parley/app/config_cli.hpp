#pragma once
#include <CLI/App.hpp>
#include <functional>
#include <string>
#include <vector>

#include "parley/net/server_config.hpp"

namespace parley::app {

// The TOML type a setting takes in a config file.
enum class setting_kind {
  integer,    // 65536
  number,     // 0.5 or 10
  text,       // "sqlite"
  text_list,  // ["https://a.example", "https://b.example"]
  boolean,    // true
};

// One setting as a config file and `parley config print` see it: its key (the flag's name
// without the dashes), the TOML type it takes, and its current value written as TOML, read from
// the server_config that register_flags was given ("" and [] when unset).
struct setting {
  std::string key;
  setting_kind kind;
  std::function<std::string()> toml;
  bool secret = false;  // never printed
};
using setting_table = std::vector<setting>;

// Registers every server setting as a flag (--port) and an environment variable
// (PARLEY_PORT), with its default shown by --help and its range checked: a bad value makes
// parsing fail with a message naming the flag. Each is listed in `settings` too, in the order
// of --help: the keys of a config file (toml_config).
void register_flags(CLI::App& cli, net::server_config& config, setting_table& settings);

// --auth-secret and --auth-secret-file (PARLEY_AUTH_SECRET, PARLEY_AUTH_SECRET_FILE), filling
// `secret`: part of register_flags, and of `parley token` too (without a table).
void register_secret_flags(CLI::App& cli, std::string& secret, setting_table* settings = nullptr);

// `text` as a TOML basic string: "quoted", with \" \\ and control characters escaped.
std::string toml_string(std::string_view text);

}  // namespace parley::app
