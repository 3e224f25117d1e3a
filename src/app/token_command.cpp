#include "parley/app/token_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "parley/app/config_cli.hpp"
#include "parley/app/number_flag.hpp"
#include "parley/core/auth_token.hpp"
#include "parley/core/clock.hpp"
#include "parley/protocol/client_id.hpp"

namespace parley::app {

namespace {

// The path /ws/{id} accepts only protocol ids: a token for another could never be used.
CLI::Validator client_id_check() {
  return CLI::Validator(
      [](std::string& id) -> std::string {
        if (protocol::is_valid_client_id(id)) return {};
        return "\"" + id + "\" could never connect: a client id is 1 to " +
               std::to_string(protocol::max_client_id_bytes) + " characters of A-Z a-z 0-9 _ . -";
      },
      "ID");
}

}  // namespace

CLI::App* token_command::register_on(CLI::App& cli, std::string& secret) {
  auto* token =
      cli.add_subcommand("token", "print a token for a client id, signed with the auth secret");
  token->add_option("--sub", subject, "the client id")->required()->check(client_id_check());
  constexpr std::int64_t ten_years = std::int64_t{10} * 365 * 24 * 3600;
  token->add_option("--ttl", ttl_seconds, "seconds the token is valid (negative: already expired)")
      ->capture_default_str()
      ->check(in_range(-ten_years, ten_years));
  register_secret_flags(*token, secret);
  return token;
}

int token_command::run(const std::string& secret) const {
  if (secret.empty()) {
    std::fprintf(stderr, "parley token: needs --auth-secret or --auth-secret-file\n");
    return 2;
  }
  core::token_verifier tokens(secret);
  std::printf("%s\n", tokens.mint(subject, core::unix_millis() / 1000 + ttl_seconds).c_str());
  return 0;
}

}  // namespace parley::app
