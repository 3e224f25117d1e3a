#pragma once
#include <boost/beast/http/message_generator.hpp>
#include <cstdint>
#include <span>
#include <string_view>

#include "parley/core/ban_list.hpp"
#include "parley/core/hub.hpp"
#include "parley/net/worker.hpp"
#include "parley/net/ws_handshake.hpp"

namespace parley::net {

// The longest ban the API takes: 30 days. Longer is a job for the application's own accounts.
inline constexpr std::int64_t max_ban_seconds = 30 * 24 * 3600;

// What the admin API reaches: the hub (an id's connections), the bans, every worker's counters.
struct admin_scope {
  core::hub& hub;
  core::ban_list& bans;
  std::span<const std::unique_ptr<worker>> workers;
  std::string_view token;  // --admin-token; never empty here
};

// Answers /admin/api/... for a request that has passed the bearer check; `who` is the caller's
// address, for the log. Every action (kick, ban) is logged at info with who and what.
//   GET  /admin/api/connections?id=ID   the id's connections: peer, since, messages in and out
//   POST /admin/api/kick?id=ID          closes each with 4003 "kicked"
//   POST /admin/api/ban?id=ID&seconds=N kicks, and refuses the id's upgrades (403) for N s
//   GET  /admin/api/stats               the counters the admin page samples
boost::beast::http::message_generator admin_api(const http_request& request, std::string_view path,
                                                const admin_scope& scope, std::string_view who);

// The value of `name` in the target's query string, percent-decoded; nullopt when absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

}  // namespace parley::net
