#pragma once
#include <cstdint>
#include <string_view>

#include "parley/protocol/ws_frame.hpp"

namespace parley::core {

// A set of other nodes of a cluster, one bit per node (the link numbers them). A cluster has at
// most 64 nodes, so that an id's whereabouts fit in one word of its hub entry.
using node_set = std::uint64_t;
inline constexpr unsigned max_remote_nodes = 64;

// What a forwarded frame does on the nodes that receive it.
enum class remote_delivery : std::uint8_t {
  // A message: to every connection of `to` and of `from` there; the two become partners.
  message,
  // To every connection of `to` there (receipts, typing, read sync).
  notify,
};

// How the hub of one node of a cluster reaches the other nodes (cluster/cluster_link
// implements it on Redis). Every method may be called from any thread and never blocks: what it
// sends is queued, in call order, and goes out in batches from the link's own thread.
class remote_link {
 public:
  virtual ~remote_link() = default;

  // False while the other nodes cannot be reached (Redis down, or the link's queue full): a
  // message to an id held only by other nodes is then refused rather than lost in silence.
  virtual bool reachable() const = 0;
  // Hands `frame` to the nodes of `nodes`, which deliver it as `how` says.
  virtual void forward(node_set nodes, remote_delivery how, std::string_view from,
                       std::string_view to, const protocol::shared_frame& frame) = 0;
  // This node's first connection of `id` opened (online) or its last one closed. Called by the
  // hub under its lock, so that the other nodes see one id's changes in the order they happened.
  virtual void local_presence(std::string_view id, bool online) = 0;
};

}  // namespace parley::core
