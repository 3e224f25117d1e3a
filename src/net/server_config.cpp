#include "parley/net/server_config.hpp"

#include <algorithm>

namespace parley::net {

std::size_t server_config::effective_max_outbox_bytes() const {
  return std::max(max_outbox_bytes, 2 * std::max(max_text_bytes, max_binary_bytes));
}

void copy_reloadable(server_config& running, const server_config& next) {
  running.log_level = next.log_level;
  if (running.tls() && next.tls()) {
    running.tls_certificate_file = next.tls_certificate_file;
    running.tls_key_file = next.tls_key_file;
  }
  running.allowed_origins = next.allowed_origins;
  running.max_connections = next.max_connections;
  running.max_connections_per_ip = next.max_connections_per_ip;
  running.max_new_connections_per_ip = next.max_new_connections_per_ip;
  running.max_tracked_ips = next.max_tracked_ips;
  running.ip_limits_on_loopback = next.ip_limits_on_loopback;
  running.trusted_proxies = next.trusted_proxies;
  running.chat.max_messages_per_second = next.chat.max_messages_per_second;
  running.chat.max_bytes_per_second = next.chat.max_bytes_per_second;
  running.chat.max_rate_strikes = next.chat.max_rate_strikes;
  running.max_outbox_bytes = next.max_outbox_bytes;
  running.outbox_soft_bytes = next.outbox_soft_bytes;
  running.outbox_soft_seconds = next.outbox_soft_seconds;
  running.ping_interval_seconds = next.ping_interval_seconds;
  running.ping_timeout_seconds = next.ping_timeout_seconds;
  running.handshake_timeout_seconds = next.handshake_timeout_seconds;
  running.max_http_header_count = next.max_http_header_count;
}

}  // namespace parley::net
