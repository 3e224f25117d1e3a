#pragma once
#include <memory>
#include <span>
#include <string>

#include "parley/core/hub.hpp"
#include "parley/net/worker.hpp"

namespace parley::net {

// The Prometheus text exposition (format 0.0.4) of every worker's counters, summed, and the
// hub's gauges. Safe from any thread: counters are read with relaxed loads.
std::string render_metrics(std::span<const std::unique_ptr<worker>> workers, const core::hub& hub,
                           double uptime_seconds);

}  // namespace parley::net
