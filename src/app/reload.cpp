#include "parley/app/reload.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <exception>

#include "parley/app/command_line.hpp"
#include "parley/core/log_event.hpp"

namespace parley::app {

namespace {

bool reloads(std::string_view key) {
  return std::ranges::find(net::reloadable_settings, key) != std::end(net::reloadable_settings);
}

// A line at info, written whatever the log level (as the start-up line is): an operator who
// sent SIGHUP wants to see its outcome.
void log_always(const core::log_event& event) {
  auto level = spdlog::get_level();
  if (level > spdlog::level::info) spdlog::set_level(spdlog::level::info);
  event.log(spdlog::level::info);
  if (level > spdlog::level::info) spdlog::set_level(level);
}

void log_failure(const std::string& why) {
  core::log_event("reload")
      .text("status", "failed")
      .text("reason", why)
      .message("reload failed, the running configuration stays: " + why)
      .log(spdlog::level::err);
}

// What differs between the running settings and the new ones, setting by setting.
struct differences {
  std::string applied;  // "key old -> new, ..."
  std::string restart;  // "key (running old, configured new), ..."
};

differences compare(const setting_table& running, const setting_table& next, bool tls_both) {
  differences found;
  for (const setting& now : running) {
    auto other = std::ranges::find(next, now.key, &setting::key);
    if (other == next.end()) continue;
    std::string before = now.toml(), after = other->toml();
    if (before == after) continue;
    bool tls_file = now.key == "tls-cert" || now.key == "tls-key";
    std::string& list = reloads(now.key) && (!tls_file || tls_both) ? found.applied : found.restart;
    if (!list.empty()) list += ", ";
    if (now.secret) {
      list += now.key + " (changed)";
    } else if (&list == &found.applied) {
      list += now.key + " " + before + " -> " + after;
    } else {
      list += now.key + " (running " + before + ", configured " + after + ")";
    }
  }
  return found;
}

}  // namespace

reloader::reloader(int argc, const char* const* argv, net::server_config& running,
                   const setting_table& running_settings, net::server& server, steps prepare)
    : argc_(argc),
      argv_(argv),
      running_(running),
      running_settings_(running_settings),
      server_(server),
      prepare_(std::move(prepare)) {}

void reloader::reload() {
  net::server_config next;
  prepare_.defaults(next);
  command_line settings(next);
  try {
    settings.parse(argc_, argv_);
  } catch (const CLI::Error& e) {
    return log_failure(e.what());
  }
  prepare_.adjust(next);
  bool tls_both = running_.tls() && next.tls();
  try {
    server_.reload(next);  // the TLS files first: a failure changes nothing
  } catch (const std::exception& e) {
    return log_failure(e.what());
  }
  differences found = compare(running_settings_, settings.settings(), tls_both);
  spdlog::set_level(spdlog::level::from_str(next.log_level));
  net::copy_reloadable(running_, next);

  std::string summary = found.applied.empty() ? "no setting changed" : found.applied;
  if (tls_both) summary += "; TLS certificate and key loaded again";
  log_always(core::log_event("reload")
                 .text("status", "applied")
                 .text("changed", found.applied)
                 .message("reload: " + summary));
  if (!found.restart.empty()) {
    core::log_event("reload")
        .text("status", "restart needed")
        .text("changed", found.restart)
        .message("reload: changed but needs a restart, the running values stay: " + found.restart)
        .log(spdlog::level::warn);
  }
}

}  // namespace parley::app
