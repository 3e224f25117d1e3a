#pragma once
#include <CLI/App.hpp>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parley/app/config_cli.hpp"
#include "parley/app/store_command.hpp"
#include "parley/app/token_command.hpp"
#include "parley/app/toml_config.hpp"
#include "parley/net/server_config.hpp"

namespace parley::app {

// Parley's command line as one CLI11 app: the server's settings (config_cli) as flags and
// PARLEY_* variables, --config FILE (a TOML file read through toml_config; PARLEY_CONFIG names
// one too), --version, and the subcommands `token`, `config check FILE`, `config print`, `store
// check` and `store export`.
// Parsing fills the server_config it was made with. One is made for each parse: at start-up,
// and again on SIGHUP with the same argv (app/reload).
class command_line {
 public:
  enum class command { serve, token, config_check, config_print, store };

  // `version` is what --version prints; `footer` ends --help.
  explicit command_line(net::server_config& config, std::string version = {},
                        std::string footer = {});
  command_line(const command_line&) = delete;
  command_line& operator=(const command_line&) = delete;

  // Parses argv, then the config file and the environment. Throws CLI::ParseError (exit()
  // prints it), a CLI::ConfigError for a bad file naming each bad key and its line.
  void parse(int argc, const char* const* argv);
  // Prints what a CLI::ParseError says (or --help, --version) as CLI11 does; its exit status.
  int exit(const CLI::ParseError& e) { return cli_.exit(e); }

  command chosen() const;
  int run_token() const { return token_.run(config_.auth_secret); }
  int run_store(std::ostream& out, std::ostream& err) const {
    return store_.run(config_.store.data_dir, out, err);
  }
  const std::string& check_file() const { return check_file_; }

  const setting_table& settings() const { return settings_; }
  // The config file read ("" when none was).
  const std::string& config_file() const { return file_->path(); }
  // Where the value of `key` comes from: "flag", "env PARLEY_...", "file PATH:LINE" or "default".
  std::string source_of(std::string_view key) const;

 private:
  bool flag_given(std::string_view key) const;

  net::server_config& config_;
  CLI::App cli_;
  setting_table settings_;
  std::shared_ptr<toml_config> file_;
  std::string config_from_environment_;  // PARLEY_CONFIG
  token_command token_;
  CLI::App* token_cli_ = nullptr;
  store_command store_;
  CLI::App* store_cli_ = nullptr;
  CLI::App* check_cli_ = nullptr;
  CLI::App* print_cli_ = nullptr;
  std::string check_file_;
  std::vector<std::string> args_;  // argv after the program's name
};

}  // namespace parley::app
