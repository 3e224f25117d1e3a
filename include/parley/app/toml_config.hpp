#pragma once
#include <CLI/App.hpp>
#include <CLI/ConfigFwd.hpp>
#include <functional>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "parley/app/config_cli.hpp"

namespace parley::app {

// A TOML config file, read for CLI11 (its CLI::Config interface): each top-level key is a
// setting's flag without the dashes (`max-text-bytes = 65536`, `store = "sqlite"`,
// `allowed-origins = ["https://a.example"]`).
//
// It checks every key and value as it reads them, so that an error names the file, the line and
// the key: an unknown key, a value of the wrong TOML type, and a value the flag's own checks
// refuse (the CLI11 validators the flag has, run on the value as given). All the file's errors
// are reported together, in the order of their lines, as one CLI::ConfigError.
//
// Precedence is flag > environment (PARLEY_*) > file > default: CLI11 gives a file's value only
// to an option the command line left unset, and reads the environment after the file, so the
// reader leaves out a key whose environment variable is set (once checked: a bad value in the
// file is an error even when the environment overrides it). An empty string or list is a key
// left unset. Keys are matched against `settings`, filled by register_flags.
class toml_config : public CLI::Config {
 public:
  toml_config(CLI::App& app, const setting_table& settings) : app_(app), settings_(settings) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;
  // Unused: `parley config print` writes the settings (config_command).
  std::string to_config(const CLI::App*, bool, bool, std::string) const override { return {}; }

  // The file read, when one was.
  const std::string& path() const { return path_; }
  // The line of `key` in the file when the value in effect is the file's; 0 otherwise.
  int line_of(std::string_view key) const;

 private:
  const setting* find(std::string_view key) const;
  std::string unknown_key(std::string_view key, bool is_table) const;

  CLI::App& app_;
  const setting_table& settings_;
  mutable std::string path_;
  mutable std::map<std::string, int, std::less<>> taken_;  // key -> line, for keys applied
};

}  // namespace parley::app
