#pragma once
#include <cstddef>
#include <string>

namespace parley::cluster {

// The settings of cluster mode (protocol-v2 "Clusters"), each with its default and the reason.
struct cluster_config {
  // redis://HOST:PORT of the Redis every node of the cluster shares; empty: a single server.
  std::string redis_url;
  // This node's name, unique in the cluster; empty: "<host name>:<port>" (set at startup).
  std::string node_id;
  // Seconds without a heartbeat after which a node counts as dead and its connections as
  // closed (the contract's default). Heartbeats go every second, or 4 per TTL when that is
  // shorter; at least 2, so that a live node is not taken for dead for one late heartbeat.
  double node_ttl_seconds = 10;
  // Bytes queued for other nodes and not yet taken by Redis, at most: past it, messages to ids
  // held only elsewhere are refused (`unavailable`) instead of growing memory without end
  // while Redis or a node falls behind. 64 MiB is about 400k chat messages, seconds of a burst.
  std::size_t max_pending_bytes = 64u << 20;

  bool enabled() const { return !redis_url.empty(); }
};

}  // namespace parley::cluster
