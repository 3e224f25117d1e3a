#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

// How the hub and the store reach one connection: the only thing core knows of the network. A
// sink may be called from any thread and never blocks: it queues the frame for its connection
// (or drops it once the connection is closing), so the hub can deliver without holding its lock.
// Calls from one thread reach the connection in the order made.
//
// A sink lives in a shared_ptr: the router and the store take their strong references from
// weak_from_this(), so a connection holds no reference to itself beyond the one this base keeps.
class sink : public std::enable_shared_from_this<sink> {
 public:
  // What an operator sees of one connection (the admin API).
  struct description {
    std::string peer;                  // the client's address and port
    std::int64_t connected_at_ms = 0;  // Unix milliseconds
    std::uint64_t messages_in = 0;     // messages received from the client
    std::uint64_t messages_out = 0;    // frames queued to it
  };

  virtual ~sink() = default;
  virtual void deliver(protocol::shared_frame frame) = 0;
  // The store has answered one request of this connection in full: `last`, when given, is the
  // answer's last frame (delivered first; one call instead of two on the hot path).
  virtual void store_done(protocol::shared_frame last = nullptr) {
    if (last) deliver(std::move(last));
  }
  // From any thread; reads what the connection counts with relaxed loads.
  virtual description describe() const = 0;
  // Asks the connection to close with `code` (an operator's kick), from any thread: it starts
  // the close handshake on its own thread, and leaves the router there (partners get `left`).
  virtual void request_close(protocol::close_code code, std::string_view reason) = 0;
};

}  // namespace parley::core
