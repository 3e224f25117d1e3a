#pragma once
// The three workloads; each returns the process exit code (0 ok, 1 the server misbehaved:
// loss, duplication, reordering, errors or unexpected closes; 2 the run could not be set up).

#include "options.hpp"

namespace parley::bench {

int run_relay(bench_options const& o);
int run_idle(bench_options const& o);
int run_churn(bench_options const& o);

}  // namespace parley::bench
