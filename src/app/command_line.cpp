#include "parley/app/command_line.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>

namespace parley::app {

command_line::command_line(net::server_config& config, std::string version, std::string footer)
    : config_(config), cli_("Parley: private, real-time chat over WebSockets") {
  if (!version.empty()) cli_.set_version_flag("--version", version, "print the version and exit");
  if (!footer.empty()) cli_.footer(footer);
  register_flags(cli_, config, settings_);
  // CLI11 reads the file before the environment, so PARLEY_CONFIG cannot be an envname: it is
  // the default of --config instead.
  if (const char* path = std::getenv("PARLEY_CONFIG")) config_from_environment_ = path;
  cli_.set_config("--config", config_from_environment_,
                  "TOML file of settings, a key per flag (max-text-bytes = 65536); flags and "
                  "PARLEY_* variables override it (env: PARLEY_CONFIG)");
  file_ = std::make_shared<toml_config>(cli_, settings_);
  cli_.config_formatter(file_);
  token_cli_ = token_.register_on(cli_, config.auth_secret);
  store_cli_ = store_.register_on(cli_, config.store.data_dir);

  auto* config_cli = cli_.add_subcommand("config", "check a config file, or print the settings");
  config_cli->require_subcommand(1)->fallthrough();
  check_cli_ = config_cli->add_subcommand(
      "check", "check a TOML config file as the server would read it, without starting (0: ok)");
  check_cli_->add_option("file", check_file_, "the file")->required()->check(CLI::ExistingFile);
  print_cli_ = config_cli->add_subcommand(
      "print", "print the settings in effect as TOML, each with where it came from");
  print_cli_->fallthrough();  // the server's flags may follow `print`
}

void command_line::parse(int argc, const char* const* argv) {
  args_.assign(argv + 1, argv + argc);
  cli_.parse(argc, argv);
  if (!config_from_environment_.empty() && file_->path().empty()) {
    throw CLI::FileError::Missing(config_from_environment_ + " (PARLEY_CONFIG)");
  }
}

command_line::command command_line::chosen() const {
  if (*token_cli_) return command::token;
  if (*store_cli_) return command::store;
  if (*check_cli_) return command::config_check;
  if (*print_cli_) return command::config_print;
  return command::serve;
}

bool command_line::flag_given(std::string_view key) const {
  std::string flag = "--" + std::string(key);
  for (const std::string& arg : args_) {
    if (arg == "--") return false;  // what follows is no flag
    if (arg == flag || (arg.starts_with(flag) && arg[flag.size()] == '=')) return true;
  }
  return false;
}

std::string command_line::source_of(std::string_view key) const {
  if (flag_given(key)) return "flag";
  if (int line = file_->line_of(key)) return "file " + file_->path() + ":" + std::to_string(line);
  const CLI::Option* option = cli_.get_option_no_throw("--" + std::string(key));
  if (option && option->count() > 0) return "env " + option->get_envname();
  return "default";
}

}  // namespace parley::app
