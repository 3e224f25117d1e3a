#pragma once
#include <functional>

#include "parley/app/config_cli.hpp"
#include "parley/net/server.hpp"
#include "parley/net/server_config.hpp"

namespace parley::app {

// What SIGHUP does: reads the command line, the environment and the config file again, as at
// start-up, and gives the running server what may change while it runs
// (net::reloadable_settings: the TLS certificate and key, the log level, limits). One line
// says what changed ("reload: max-messages-per-second 5000 -> 2; TLS certificate and key loaded
// again"), a warning names each setting that changed but needs a restart, and a file that does
// not parse, or TLS files that cannot be used, change nothing: the running configuration stays,
// and the error says why.
class reloader {
 public:
  // What main does to a configuration besides parsing, done again to a reloaded one.
  struct steps {
    std::function<void(net::server_config&)> defaults;  // before parsing (the pages folder)
    std::function<void(net::server_config&)> adjust;    // after (max-connections fitted)
  };

  // `running` is the configuration the server was started with and `running_settings` its
  // table (command_line::settings() of that parse); both outlive the reloader.
  reloader(int argc, const char* const* argv, net::server_config& running,
           const setting_table& running_settings, net::server& server, steps prepare);

  // On the signal thread.
  void reload();

 private:
  int argc_;
  const char* const* argv_;
  net::server_config& running_;
  const setting_table& running_settings_;
  net::server& server_;
  steps prepare_;
};

}  // namespace parley::app
