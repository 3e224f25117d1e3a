// parley: private, real-time chat over WebSockets.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <thread>

#include "parley/app/config_cli.hpp"
#include "parley/core/auth_token.hpp"
#include "parley/core/clock.hpp"
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

std::string url_of(const boost::asio::ip::tcp::endpoint& endpoint, bool tls) {
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(endpoint.port());
}

// `parley token`: a JWT for `subject`, for operators and tests.
int print_token(const parley::net::server_config& config, const std::string& subject,
                std::int64_t ttl) {
  if (config.auth_secret.empty()) {
    std::fprintf(stderr, "parley token: needs --auth-secret or --auth-secret-file\n");
    return 2;
  }
  parley::core::token_verifier tokens(config.auth_secret);
  std::printf("%s\n", tokens.mint(subject, parley::core::unix_millis() / 1000 + ttl).c_str());
  return 0;
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

}  // namespace

int main(int argc, char** argv) {
  parley::net::server_config config;
  config.static_dir = PARLEY_DEFAULT_STATIC_DIR;
  CLI::App cli{"Parley: private, real-time chat over WebSockets"};
  parley::app::register_flags(cli, config);
  std::string token_subject;
  std::int64_t token_ttl = 3600;
  auto* token =
      cli.add_subcommand("token", "print a token for a client id, signed with the auth secret");
  token->add_option("--sub", token_subject, "the client id")->required();
  constexpr std::int64_t ten_years = std::int64_t{10} * 365 * 24 * 3600;
  token->add_option("--ttl", token_ttl, "seconds the token is valid (negative: already expired)")
      ->capture_default_str()
      ->check(CLI::Range(-ten_years, ten_years));
  token->fallthrough();  // --auth-secret may follow the subcommand
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (*token) return print_token(config, token_subject, token_ttl);
  set_up_logging(config.log_level);
  warn_when_exposed(config);
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
  spdlog::info("listening on {} (static files: {}, threads: {})",
               url_of(server->local_endpoint(), config.tls()), config.static_dir,
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
