#include "parley/app/config_cli.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <type_traits>

#include "parley/app/number_flag.hpp"
#include "parley/cluster/redis_address.hpp"
#include "parley/net/ops_access.hpp"
#include "parley/net/trusted_proxies.hpp"

namespace parley::app {

namespace {

// "max-text-bytes" -> "PARLEY_MAX_TEXT_BYTES"
std::string env_name(std::string_view flag) {
  std::string name = "PARLEY_";
  for (char c : flag)
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

// Where settings are registered: the CLI11 app, and the table of config-file keys (may be null).
struct registrar {
  CLI::App& app;
  setting_table* settings;

  void list(std::string_view key, setting_kind kind, std::function<std::string()> toml,
            bool secret = false) {
    if (settings) settings->push_back({std::string(key), kind, std::move(toml), secret});
  }
};

// A value as TOML writes it.
template <typename T>
std::string toml_value(const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return toml_string(value);
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    std::string list = "[";
    for (const auto& item : value)
      list += (list.size() > 1 ? ", " : "") + toml_string(item);
    return list + "]";
  } else {
    return number_text(value);
  }
}

template <typename T>
constexpr setting_kind kind_of() {
  if constexpr (std::is_same_v<T, std::string>) return setting_kind::text;
  if constexpr (std::is_same_v<T, std::vector<std::string>>) return setting_kind::text_list;
  if constexpr (std::is_floating_point_v<T>) return setting_kind::number;
  return setting_kind::integer;
}

// A setting with a value of type T: flag, environment variable and config-file key. Number
// flags are checked with in_range (not CLI::Range, whose "not in range" is also its answer to
// "abc").
template <typename T>
CLI::Option* add(registrar& cli, std::string_view flag, T& value, std::string_view help) {
  auto* option = cli.app.add_option("--" + std::string(flag), value, std::string(help))
                     ->envname(env_name(flag));
  cli.list(flag, kind_of<T>(), [&value] { return toml_value(value); });
  if constexpr (std::is_floating_point_v<T>) {
    return option->default_str(number_text(value));  // 33554432, not 3.35544e+07
  } else {
    return option->capture_default_str();
  }
}

// A secret file's text without the line end an editor leaves.
std::string read_secret(const std::string& path) {
  std::ifstream file(path);
  std::string secret((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) throw CLI::ValidationError("--auth-secret-file", "the file is empty");
  return secret;
}

// --host is listened on as given: a name would need resolving, and may name several addresses.
CLI::Validator ip_address_check() {
  return CLI::Validator(
      [](std::string& host) -> std::string {
        boost::system::error_code ec;
        boost::asio::ip::make_address(host, ec);
        if (!ec) return {};
        return host +
               " is not an IP address (127.0.0.1 or ::1: this machine only; 0.0.0.0 or ::: every "
               "address)";
      },
      "IP");
}

CLI::Validator listen_address_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (net::parse_listen_address(text)) return {};
        return text + " is not IP:PORT (127.0.0.1:9100, [::1]:9100)";
      },
      "IP:PORT");
}

// --trusted-proxies: each entry an address or ADDRESS/PREFIX.
CLI::Validator network_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        return net::trusted_proxies::invalid(text).value_or(std::string{});
      },
      "CIDR");
}

constexpr double max_seconds = 24 * 3600;
constexpr std::size_t max_message_limit = 1024ull * 1024 * 1024;  // 1 GiB: far past any chat file

// --store: a name (any case) for the enum, as its number, which CLI11 then converts.
CLI::Validator store_kind_check() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        std::string lower = CLI::detail::to_lower(name);
        for (auto [text, number] : {std::pair{"none", "0"}, {"sqlite", "1"}, {"postgres", "2"}}) {
          if (lower != text) continue;
          name = number;
          return {};
        }
        return name + " is not a store: sqlite, postgres or none";
      },
      "{sqlite,postgres,none}");
}

const char* store_kind_name(store::store_kind kind) {
  switch (kind) {
    case store::store_kind::none:
      return "none";
    case store::store_kind::sqlite:
      return "sqlite";
    case store::store_kind::postgres:
      return "postgres";
  }
  return "none";
}

void register_store_flags(registrar& cli, store::store_config& s) {
  static_assert(static_cast<int>(store::store_kind::none) == 0 &&
                static_cast<int>(store::store_kind::sqlite) == 1 &&
                static_cast<int>(store::store_kind::postgres) == 2);
  cli.app
      .add_option(
          "--store", s.kind,
          "where conversations are kept: sqlite (in --data-dir), postgres (at --postgres-url) "
          "or none (nothing kept)")
      ->envname(env_name("store"))
      ->transform(store_kind_check())
      ->type_name("TEXT")
      ->default_str("sqlite");
  cli.list("store", setting_kind::text, [&s] { return toml_string(store_kind_name(s.kind)); });
  add(cli, "data-dir", s.data_dir, "folder of the sqlite store (made when missing)");
  add(cli, "postgres-url", s.postgres_url,
      "the postgres store's database (libpq URL or key=value string)");
  // It may carry a password: `parley config print` says whether it is set, not what it is.
  if (cli.settings) cli.settings->back().secret = true;
  add(cli, "postgres-pool", s.postgres_pool,
      "connections (each with a store thread) of the postgres store")
      ->check(in_range(std::size_t{1}, std::size_t{64}));
  add(cli, "retention-days", s.retention_days, "days a message stays in history (0: forever)")
      ->check(in_range(0.0, 365000.0));
  add(cli, "dedup-seconds", s.dedup_seconds,
      "seconds a (sender, cid) is remembered: a retry within them is acked, not stored again")
      ->check(in_range(0.0, 365.0 * 24 * 3600));
  add(cli, "max-inbox-messages", s.max_inbox_messages,
      "undelivered messages one id may hold; past it: error inbox_full")
      ->check(in_range(std::size_t{1}, std::size_t{100000000}));
  add(cli, "inbox-push-max", s.inbox_push_max,
      "stored messages pushed to a new connection before `inbox` (the rest: history)")
      ->check(in_range(std::size_t{0}, std::size_t{1000000}));
  add(cli, "max-dedup-entries", s.max_dedup_entries,
      "(sender, cid) pairs remembered for dedup at most; the oldest go first")
      ->check(in_range(std::size_t{1000}, std::size_t{1000000000}));
}

CLI::Validator redis_url_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty()) return {};
        try {
          cluster::redis_address::parse(text);
          return {};
        } catch (const std::invalid_argument& e) {
          return e.what();
        }
      },
      "redis://HOST:PORT");
}

void register_cluster_flags(registrar& cli, cluster::cluster_config& c) {
  add(cli, "cluster-redis", c.redis_url,
      "redis://HOST:PORT: run as one node of a cluster sharing this Redis (empty: alone)")
      ->check(redis_url_check());
  add(cli, "node-id", c.node_id,
      "this node's name in the cluster, unique (empty: host name and port)");
  add(cli, "node-ttl", c.node_ttl_seconds,
      "seconds without a heartbeat after which a node is dead and its connections closed")
      ->check(in_range(2.0, 3600.0));
  add(cli, "cluster-max-pending-bytes", c.max_pending_bytes,
      "bytes queued for other nodes at most; past it messages to them get unavailable")
      ->check(in_range(std::size_t{1} << 16, std::size_t{1} << 34));
}

}  // namespace

std::string toml_string(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (byte < 0x20 || byte == 0x7F) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04X", byte);
      quoted += escape;
    } else {
      quoted += c;
    }
  }
  return quoted + '"';
}

void register_secret_flags(CLI::App& app, std::string& secret, setting_table* settings) {
  registrar cli{app, settings};
  add(cli, "auth-secret", secret,
      "HS256 secret: every upgrade then needs a JWT whose sub is its id (empty: no auth)");
  if (settings) settings->back().secret = true;
  auto path = std::make_shared<std::string>();  // for `config print`
  app.add_option("--auth-secret-file", "file holding the auth secret")
      ->envname("PARLEY_AUTH_SECRET_FILE")
      ->check(CLI::ExistingFile)
      ->each([&secret, path](const std::string& file) {
        secret = read_secret(file);
        *path = file;
      });
  cli.list("auth-secret-file", setting_kind::text, [path] { return toml_string(*path); });
}

void register_flags(CLI::App& app, net::server_config& c, setting_table& settings) {
  registrar cli{app, &settings};
  add(cli, "host", c.host, "IP address to listen on")->check(ip_address_check());
  add(cli, "port", c.port, "TCP port (0 picks a free one; the log says which)")
      ->check(in_range(0, 65535));
  add(cli, "static-dir", c.static_dir, "folder served at / and /static/")
      ->check(CLI::ExistingDirectory);
  add(cli, "threads", c.threads, "event-loop threads (0: one per core)")
      ->check(in_range(0u, 1024u));
  add(cli, "ping-interval", c.ping_interval_seconds,
      "seconds between WebSocket pings (0: no pings)")
      ->check(in_range(0.0, max_seconds));
  add(cli, "ping-timeout", c.ping_timeout_seconds,
      "seconds after an unanswered ping before the connection is closed")
      ->check(in_range(0.01, max_seconds));
  add(cli, "max-text-bytes", c.max_text_bytes, "longest text message (longer: error too_large)")
      ->check(in_range(std::size_t{64}, max_message_limit));
  add(cli, "max-binary-bytes", c.max_binary_bytes,
      "longest message of any kind (longer: close 1009)")
      ->check(in_range(std::size_t{64}, max_message_limit));
  add(cli, "max-message-fragments", c.max_message_fragments,
      "frames one message may arrive in (more: close 1009)")
      ->check(in_range(std::size_t{1}, std::size_t{1000000}));
  add(cli, "max-outbox-bytes", c.max_outbox_bytes,
      "unsent bytes that close a slow reader at once (4008); at least 2x the largest message")
      ->check(in_range(std::size_t{1}, 4 * max_message_limit));
  add(cli, "outbox-soft-bytes", c.outbox_soft_bytes,
      "unsent bytes a reader may hold for --outbox-soft-seconds before it is closed (4008)")
      ->check(in_range(std::size_t{1}, 4 * max_message_limit));
  add(cli, "outbox-soft-seconds", c.outbox_soft_seconds,
      "seconds a reader may stay over --outbox-soft-bytes")
      ->check(in_range(0.01, max_seconds));
  add(cli, "handshake-timeout", c.handshake_timeout_seconds,
      "seconds to finish an HTTP request or WebSocket upgrade")
      ->check(in_range(0.01, max_seconds));
  add(cli, "max-watch-ids", c.chat.max_watched_ids, "ids one connection may watch")
      ->check(in_range(std::size_t{1}, std::size_t{1000000}));
  const std::map<std::string, core::presence_scope> scopes{
      {"all", core::presence_scope::all},
      {"contacts", core::presence_scope::contacts},
      {"off", core::presence_scope::off}};
  cli.app
      .add_option("--presence-scope", c.chat.presence,
                  "ids `who` lists: all online, contacts (chat partners and watched ids) or off")
      ->envname(env_name("presence-scope"))
      ->transform(CLI::CheckedTransformer(scopes, CLI::ignore_case))
      ->type_name("TEXT")
      ->default_str("all");
  cli.list("presence-scope", setting_kind::text, [&c] {
    switch (c.chat.presence) {
      case core::presence_scope::contacts:
        return toml_string("contacts");
      case core::presence_scope::off:
        return toml_string("off");
      case core::presence_scope::all:
        break;
    }
    return toml_string("all");
  });
  add(cli, "max-messages-per-second", c.chat.max_messages_per_second,
      "messages a connection may send per second (bursts of 2 s); over: rate_limited (0: none)")
      ->check(in_range(0.0, 1e9));
  add(cli, "max-bytes-per-second", c.chat.max_bytes_per_second,
      "message bytes a connection may send per second (bursts of 2 s); over: rate_limited")
      ->check(in_range(0.0, 1e12));
  add(cli, "max-rate-strikes", c.chat.max_rate_strikes,
      "messages refused in a row for the rate before the connection is closed (1008)")
      ->check(in_range(std::size_t{1}, std::size_t{1000000}));
  add(cli, "max-http-header-count", c.max_http_header_count,
      "header fields one HTTP request may have (more: 431)")
      ->check(in_range(std::size_t{1}, std::size_t{10000}));
  add(cli, "max-connections", c.max_connections,
      "WebSockets open at once; more: HTTP 503 (lowered at start to fit the open-file limit)")
      ->check(in_range(std::size_t{1}, std::size_t{10000000}));
  add(cli, "max-connections-per-ip", c.max_connections_per_ip,
      "TCP connections (pages and WebSockets) open at once from one address; more: HTTP 429")
      ->check(in_range(std::size_t{1}, std::size_t{10000000}));
  add(cli, "max-new-connections-per-ip", c.max_new_connections_per_ip,
      "new connections a second from one address (bursts of 2 s); more: HTTP 429 (0: no limit)")
      ->check(in_range(0.0, 1e9));
  add(cli, "max-tracked-ips", c.max_tracked_ips,
      "addresses the per-address limits track at once; the longest-idle is forgotten at the cap")
      ->check(in_range(std::size_t{1}, std::size_t{100000000}));
  app.add_flag("--ip-limits-on-loopback", c.ip_limits_on_loopback,
               "apply the per-address limits to loopback peers too (exempt by default: a proxy)")
      ->envname(env_name("ip-limits-on-loopback"));
  cli.list("ip-limits-on-loopback", setting_kind::boolean,
           [&c] { return std::string(c.ip_limits_on_loopback ? "true" : "false"); });
  add(cli, "trusted-proxies", c.trusted_proxies,
      "networks of the proxies in front (ADDRESS/PREFIX, comma-separated) whose connections must "
      "open with a PROXY protocol v2 header carrying the client's address; empty: none")
      ->delimiter(',')
      ->check(network_check());
  register_secret_flags(app, c.auth_secret, &settings);
  add(cli, "allowed-origins", c.allowed_origins,
      "browser origins allowed besides the server's own (default: localhost on any port; *: any)")
      ->delimiter(',');
  auto* certificate = add(cli, "tls-cert", c.tls_certificate_file,
                          "PEM certificate chain: serve HTTPS and WSS (needs --tls-key)")
                          ->check(CLI::ExistingFile);
  auto* key = add(cli, "tls-key", c.tls_key_file, "PEM private key of --tls-cert")
                  ->check(CLI::ExistingFile);
  certificate->needs(key);
  key->needs(certificate);
  register_store_flags(cli, c.store);
  register_cluster_flags(cli, c.cluster);
  add(cli, "metrics-token", c.metrics_token,
      "bearer token /metrics and /healthz then need (Authorization: Bearer ...); empty: open");
  add(cli, "admin-listen", c.admin_listen,
      "IP:PORT of a second port serving only /metrics, /healthz and /admin (the main port: 404)")
      ->check(listen_address_check());
  add(cli, "admin-token", c.admin_token,
      "bearer token of the admin page and API (/admin, /admin/api/...); empty: admin off");
  add(cli, "max-banned-ids", c.max_banned_ids, "ids banned at once through the admin API")
      ->check(in_range(std::size_t{1}, std::size_t{10000000}));
  add(cli, "log-level", c.log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  add(cli, "log-format", c.log_format,
      "text (one line per event, for people) or json (one object per line, for collectors)")
      ->check(CLI::IsMember({"text", "json"}));
}

}  // namespace parley::app
