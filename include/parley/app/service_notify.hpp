#pragma once
#include <string_view>

namespace parley::app {

// Tells systemd (a Type=notify unit) how start-up and shutdown go, through sd_notify(3). Each call
// is a no-op when the process was not started by systemd (no NOTIFY_SOCKET) or when the binary
// was built without libsystemd (PARLEY_SYSTEMD=OFF, or libsystemd-dev missing at build time).

// READY=1 with a status line: call once the listener is bound and the store is open, so that
// `systemctl start` returns only when clients can connect.
void notify_ready(std::string_view status);

// STOPPING=1: call when a SIGTERM or SIGINT starts the shutdown.
void notify_stopping();

}  // namespace parley::app
