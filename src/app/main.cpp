// parley: private, real-time chat over WebSockets.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <thread>

#include "parley/app/config_cli.hpp"
#include "parley/net/server.hpp"

namespace {

// Time the shutdown gives WebSockets to finish their close handshake: exit stays within 2 s.
constexpr double shutdown_drain_seconds = 1.5;

void set_up_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("parley");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

std::string url_of(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return "http://" + host + ":" + std::to_string(endpoint.port());
}

}  // namespace

int main(int argc, char** argv) {
  parley::net::server_config config;
  config.static_dir = PARLEY_DEFAULT_STATIC_DIR;
  CLI::App cli{"Parley: private, real-time chat over WebSockets"};
  parley::app::register_flags(cli, config);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  set_up_logging(config.log_level);
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<parley::net::server> server;
  try {
    server = std::make_unique<parley::net::server>(config);
  } catch (const std::exception& e) {
    spdlog::critical("cannot start on {}:{}: {}", config.host, config.port, e.what());
    return 1;
  }
  // Printed at every log level: scripts and tests read the port from it.
  auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::info);
  spdlog::info("listening on {} (static files: {}, threads: {})", url_of(server->local_endpoint()),
               config.static_dir,
               config.threads ? config.threads : std::thread::hardware_concurrency());
  spdlog::set_level(level);

  boost::asio::io_context signal_io;
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: closing connections and stopping", signal);
    server->stop(shutdown_drain_seconds);
  });
  std::thread signal_thread([&] { signal_io.run(); });
  server->run();
  signal_io.stop();
  signal_thread.join();
  spdlog::info("stopped");
  return 0;
}
