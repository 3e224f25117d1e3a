#pragma once
#include <cstddef>
#include <cstdint>

namespace parley::app {

// Every WebSocket holds a file descriptor. A server allowed more connections than the process
// may open files accepts sockets it cannot serve: accept() fails with EMFILE and clients hang.
struct open_file_fit {
  std::uint64_t soft_before = 0;    // the open-file soft limit the process started with
  std::uint64_t limit = 0;          // the soft limit now (raised up to the hard limit)
  std::uint64_t hard = 0;           // the hard limit: only root may raise it
  std::size_t reserved = 0;         // descriptors kept for everything but WebSockets
  std::size_t max_connections = 0;  // what fits: the configured value, or lower
  std::size_t lowered_from = 0;     // the configured value when it did not fit, else 0
  bool lowered() const { return lowered_from != 0; }
};

// Descriptors kept apart from WebSockets: standard streams, the listener, each event loop's own
// (epoll, eventfd, timerfd, the WebSocket poller), page requests in flight, static files, TLS
// files and the store's files.
std::size_t reserved_descriptors(unsigned threads);

// Raises the open-file soft limit (RLIMIT_NOFILE) to the hard limit, then fits
// `max_connections` under it with reserved_descriptors(threads) kept (at least 1 connection).
open_file_fit fit_open_file_limit(std::size_t max_connections, unsigned threads);

}  // namespace parley::app
