#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "parley/cluster/cluster_config.hpp"
#include "parley/core/hub.hpp"
#include "parley/core/remote_link.hpp"

namespace parley::cluster {

// What /metrics and /healthz show of the cluster, read with relaxed loads from any thread.
struct cluster_stats {
  std::atomic<bool> redis_up{false};
  std::atomic<std::uint32_t> nodes{1};                // live nodes, this one included
  std::atomic<std::uint64_t> messages_out{0};         // frames forwarded to other nodes
  std::atomic<std::uint64_t> messages_in{0};          // frames other nodes forwarded here
  std::atomic<std::uint64_t> batches_out{0};          // PUBLISHes of batches
  std::atomic<std::uint64_t> redis_reconnects{0};     // connections to Redis made again
  std::atomic<std::uint64_t> redis_round_trip_us{0};  // the last heartbeat's round trip
  std::atomic<std::uint64_t> dropped_out{0};          // frames dropped: Redis was down
  std::atomic<std::uint64_t> bad_batches{0};          // batches from other nodes not understood
};

// This node's link to the other nodes of a cluster, through Redis (docs/cluster.md):
// - Redis holds the nodes' heartbeats (a sorted set, scored by Redis's own clock) and each
//   node's ids (a set per node, for operators and tools); a node that misses heartbeats for
//   --node-ttl is removed by the next node's heartbeat, and every node drops its ids.
// - Each node subscribes to one channel of its own. Whatever this node sends to another
//   (forwarded frames, its presence changes, its whole state when they meet) goes into that
//   node's batch, in order, and each batch is one PUBLISH per loop turn of the link's thread:
//   Redis keeps one publisher's order, so a node sees another's changes in the order made.
// - Every node keeps the whole cluster's presence in its hub (who holds which id), so routing
//   sends a frame only to the nodes that hold its recipient, and `who` is answered locally.
// One thread of its own ("parley-cluster") runs the Redis connections; the remote_link methods
// are thread-safe and only queue.
class cluster_link final : public core::remote_link {
 public:
  // Attaches to `hub` and starts the thread, which connects (and keeps reconnecting) by itself:
  // a node whose Redis is down still serves its own connections. Throws std::invalid_argument
  // for a malformed URL or node id.
  cluster_link(const cluster_config& config, core::hub& hub);
  // Tells the other nodes this one is gone (when Redis is up), then stops the thread.
  ~cluster_link() override;

  bool reachable() const override;
  void forward(core::node_set nodes, core::remote_delivery how, std::string_view from,
               std::string_view to, const protocol::shared_frame& frame) override;
  void local_presence(std::string_view id, bool online) override;

  const std::string& node_id() const;
  const cluster_stats& stats() const;

  class engine;  // the link's thread and what it owns; in cluster_link.cpp

 private:
  std::unique_ptr<engine> engine_;
};

}  // namespace parley::cluster
