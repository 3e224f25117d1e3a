#pragma once
#include <memory>
#include <span>
#include <string>

#include "parley/cluster/cluster_link.hpp"
#include "parley/core/hub.hpp"
#include "parley/net/worker.hpp"
#include "parley/store/durable_store.hpp"

namespace parley::net {

// The Prometheus text exposition (format 0.0.4) of every worker's counters, summed, and the
// hub's gauges, the store's (when `store` is not null) and the cluster link's (when `cluster`
// is not null). Safe from any thread: counters are
// read with relaxed loads.
std::string render_metrics(std::span<const std::unique_ptr<worker>> workers, const core::hub& hub,
                           const store::durable_store* store, const cluster::cluster_link* cluster,
                           double uptime_seconds);

}  // namespace parley::net
