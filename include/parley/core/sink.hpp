#pragma once
#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

// How the hub and the store reach one connection: the only thing core knows of the network. A
// sink may be called from any thread and never blocks: it queues the frame for its connection
// (or drops it once the connection is closing), so the hub can deliver without holding its lock.
// Calls from one thread reach the connection in the order made.
class sink {
 public:
  virtual ~sink() = default;
  virtual void deliver(protocol::shared_frame frame) = 0;
  // The store has answered one request of this connection in full: `last`, when given, is the
  // answer's last frame (delivered first; one call instead of two on the hot path).
  virtual void store_done(protocol::shared_frame last = nullptr) {
    if (last) deliver(std::move(last));
  }
};

}  // namespace parley::core
