// parley: private, real-time chat over WebSockets.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <thread>

#include "parley/app/command_line.hpp"
#include "parley/app/config_command.hpp"
#include "parley/app/log_format.hpp"
#include "parley/app/open_file_limit.hpp"
#include "parley/app/reload.hpp"
#include "parley/app/service_notify.hpp"
#include "parley/app/startup_failure.hpp"
#include "parley/app/static_dir.hpp"
#include "parley/net/server.hpp"

namespace {

// Time the shutdown gives WebSockets to finish their close handshake: exit stays within 2 s.
constexpr double shutdown_drain_seconds = 1.5;

// The exit statuses, as README and --help give them.
constexpr int exit_startup_failure = 1;  // could not start: port in use, TLS files, no pages
constexpr int exit_usage = 2;            // a bad flag or value, or a bad `parley token`

constexpr const char* exit_status_help =
    "Exit status:\n"
    "  0  stopped by SIGINT or SIGTERM; or --help, --version, token, config, store did what was\n"
    "     asked\n"
    "  1  could not start (port in use, unusable TLS files, no pages folder); or store check\n"
    "     found a problem, or store found no store to read\n"
    "  2  bad flag, value, config file or usage\n"
    "Signals: SIGINT and SIGTERM stop; SIGHUP reads the settings again and applies those that "
    "may change while running (README: Reloading)";

std::string url_of(const boost::asio::ip::tcp::endpoint& endpoint, bool tls) {
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(endpoint.port());
}

unsigned thread_count(unsigned configured) {
  return configured ? configured : std::max(1u, std::thread::hardware_concurrency());
}

// Without a secret anyone may claim any id: fine on loopback, loud anywhere else.
void warn_when_exposed(const parley::net::server_config& config) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(config.host, ec);
  if (config.auth_secret.empty() && (ec || !address.is_loopback())) {
    spdlog::warn(
        "AUTHENTICATION IS OFF on {}: anyone who reaches this port can claim any id and "
        "read its messages. Set --auth-secret or --auth-secret-file.",
        config.host);
  }
  if (!config.tls() && (ec || !address.is_loopback())) {
    spdlog::warn(
        "TLS IS OFF on {}: messages and tokens cross the network readable by anyone on the "
        "path, unless a proxy in front ends TLS. Set --tls-cert and --tls-key.",
        config.host);
  }
}

// Fits --max-connections under the open-file limit (raised to the hard limit first), with a
// warning that says how to raise the limit when it had to be lowered.
void fit_connections_to_open_files(parley::net::server_config& config) {
  auto fit = parley::app::fit_open_file_limit(config.max_connections, thread_count(config.threads));
  if (fit.soft_before != fit.limit) {
    spdlog::debug("open-file limit raised from {} to {} (the hard limit)", fit.soft_before,
                  fit.limit);
  }
  if (!fit.lowered()) return;
  std::size_t needed = fit.lowered_from + fit.reserved;
  spdlog::warn(
      "--max-connections lowered from {} to {}: this process may open {} files and keeps {} for "
      "everything but WebSockets. To serve {}, raise its open-file limit to {}: LimitNOFILE={} "
      "in its systemd unit, or `ulimit -n {}` in the shell that starts it (as root: the hard "
      "limit is {}).",
      fit.lowered_from, fit.max_connections, fit.limit, fit.reserved, fit.lowered_from, needed,
      needed, needed, fit.hard);
  config.max_connections = fit.max_connections;
}

// Sets the default --static-dir; returns where it came from, for the start-up line.
std::string default_static_dir(parley::net::server_config& config,
                               const std::vector<parley::app::static_dir_candidate>& candidates) {
  auto found = parley::app::first_existing(candidates);
  if (!found) return {};
  config.static_dir = found->path;
  return found->origin;
}

std::string candidate_list(const std::vector<parley::app::static_dir_candidate>& candidates) {
  std::string list;
  for (const auto& c : candidates)
    list += (list.empty() ? "" : ", ") + c.path;
  return list;
}

}  // namespace

int main(int argc, char** argv) {
  using parley::app::command_line;
  parley::net::server_config config;
  config.static_dir.clear();
  auto candidates = parley::app::static_dir_candidates();
  std::string static_origin = default_static_dir(config, candidates);
  command_line settings(config, "parley " PARLEY_VERSION, exit_status_help);
  try {
    settings.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return settings.exit(e) == 0 ? 0 : exit_usage;
  }
  switch (settings.chosen()) {
    case command_line::command::token:
      return settings.run_token();
    case command_line::command::config_check:
      return parley::app::check_config(settings.check_file());
    case command_line::command::config_print:
      parley::app::print_config(settings, stdout);
      return 0;
    case command_line::command::store:
      return settings.run_store(std::cout, std::cerr);
    case command_line::command::serve:
      break;
  }
  parley::app::set_up_logging(config.log_level, config.log_format);
  // Made before the start-up line, which scripts wait for before they may send SIGHUP: a signal
  // from then on is queued for the handler below, never the default action (SIGHUP ends a
  // process).
  boost::asio::io_context signal_io;
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM, SIGHUP);
  if (std::string source = settings.source_of("static-dir"); source != "default") {
    static_origin = source == "flag" ? "--static-dir" : source;
  }
  if (config.static_dir.empty()) {
    spdlog::critical(
        "cannot start: no pages folder (none of {} exists); give one with --static-dir",
        candidate_list(candidates));
    return exit_startup_failure;
  }
  warn_when_exposed(config);
  fit_connections_to_open_files(config);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<parley::net::server> server;
  try {
    server = std::make_unique<parley::net::server>(config);
  } catch (const std::exception& e) {
    spdlog::critical("{}", parley::app::describe_startup_failure(e, config.host, config.port));
    return exit_startup_failure;
  }
  // Printed at every log level: scripts and tests read the port from it.
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::info);
  if (auto admin = server->admin_endpoint()) {
    spdlog::info("admin port on {} (/metrics, /healthz{})", url_of(*admin, false),
                 config.admin_token.empty() ? "" : ", /admin");
  }
  std::string config_file;
  if (!settings.config_file().empty()) config_file = ", config file: " + settings.config_file();
  std::string url = url_of(server->local_endpoint(), config.tls());
  spdlog::info("listening on {} (static files: {} [{}], threads: {}, max connections: {}{})", url,
               config.static_dir, static_origin, thread_count(config.threads),
               config.max_connections, config_file);
  spdlog::set_level(level);

  parley::app::reloader reloader(
      argc, argv, config, settings.settings(), *server,
      {[&](parley::net::server_config& next) {
         next.static_dir.clear();
         default_static_dir(next, candidates);
       },
       [](parley::net::server_config& next) { fit_connections_to_open_files(next); }});
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reloader.reload();
        return wait_for_signal();
      }
      spdlog::info("signal {}: closing connections and stopping", signal);
      parley::app::notify_stopping();
      server->stop(shutdown_drain_seconds);
    });
  };
  wait_for_signal();
  std::thread signal_thread([&] { signal_io.run(); });
  // The listener is bound and the store open (both in the server's constructor), and SIGTERM is
  // handled: a Type=notify unit counts as started from here.
  parley::app::notify_ready("listening on " + url);
  server->run();
  signal_io.stop();
  signal_thread.join();
  spdlog::info("stopped");
  return 0;
}
