#pragma once
// The result of a run: one JSON object, printed as one line (--json) or as a summary.

#include "latency_histogram.hpp"

#include <boost/json/object.hpp>

namespace parley::bench {

struct bench_options;

// The settings every report starts with.
boost::json::object report_header(bench_options const& o);
// {"p50":…,"p90":…,"p99":…,"p99.9":…,"max":…,"count":…} in microseconds.
boost::json::object latency_json(latency_histogram const& h);
// The JSON line on stdout (json) and the human summary (on stderr when json, else stdout).
void print_report(boost::json::object const& r, bool json);

}  // namespace parley::bench
