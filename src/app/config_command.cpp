#include "parley/app/config_command.hpp"

#include <CLI/CLI.hpp>
#include <exception>

#include "parley/net/tls_context.hpp"

namespace parley::app {

int check_config(const std::string& file) {
  net::server_config config;
  command_line settings(config);
  const char* argv[] = {"parley", "--config", file.c_str()};
  try {
    settings.parse(3, argv);
    if (config.tls()) net::tls_context check(config.tls_certificate_file, config.tls_key_file);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), e.what());
    return 2;
  }
  std::printf("%s: ok\n", file.c_str());
  return 0;
}

void print_config(const command_line& settings, std::FILE* out) {
  std::fprintf(out,
               "# Parley's settings in effect, each with where it came from\n"
               "# (flag > environment PARLEY_* > config file > default).\n");
  if (!settings.config_file().empty()) {
    std::fprintf(out, "# config file: %s\n", settings.config_file().c_str());
  }
  for (const setting& s : settings.settings()) {
    std::string source = settings.source_of(s.key);
    if (s.secret) {
      bool set = s.toml() != "\"\"";
      std::fprintf(out, "# %s = (%s)  # %s\n", s.key.c_str(), set ? "set, not shown" : "not set",
                   source.c_str());
    } else {
      std::fprintf(out, "%s = %s  # %s\n", s.key.c_str(), s.toml().c_str(), source.c_str());
    }
  }
}

}  // namespace parley::app
