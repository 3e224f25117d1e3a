#include "report.hpp"

#include "options.hpp"

#include <boost/json/serialize.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace parley::bench {

boost::json::object report_header(bench_options const& o) {
  boost::json::object r;
  r["tool"] = "parley-bench";
  r["mode"] = o.mode;
  if (!o.label.empty()) r["label"] = o.label;
  r["host"] = o.host;
  r["port"] = o.port;
  r["connections"] = o.connections;
  r["threads"] = o.threads;
  return r;
}

boost::json::object latency_json(latency_histogram const& h) {
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  boost::json::object l;
  l["count"] = h.count();
  l["p50"] = us(h.quantile(0.50));
  l["p90"] = us(h.quantile(0.90));
  l["p99"] = us(h.quantile(0.99));
  l["p99.9"] = us(h.quantile(0.999));
  l["max"] = us(h.max());
  return l;
}

namespace {
void print_value(std::ostream& out, boost::json::value const& v) {
  if (v.is_double()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v.as_double());
    out << buf;
  } else if (v.is_string()) {
    out << v.as_string().c_str();
  } else {
    out << boost::json::serialize(v);
  }
}
}  // namespace

namespace {
// Whole numbers and numbers from 100 up as integers, the rest rounded to 4 decimals.
void tidy(boost::json::value& v) {
  if (v.is_object()) {
    for (auto& [k, x] : v.as_object())
      tidy(x);
  } else if (v.is_double()) {
    double const d = v.as_double();
    if (std::abs(d) < 1e15 && (d == std::floor(d) || std::abs(d) >= 100))
      v = static_cast<std::int64_t>(std::llround(d));
    else
      v = std::round(d * 1e4) / 1e4;
  }
}
}  // namespace

void print_report(boost::json::object const& report, bool json) {
  boost::json::object r = report;
  // A saturated tool sets the pace itself: the server's figures are then only a lower bound.
  if (auto const* cpu = r.if_contains("client_cpu"); cpu && cpu->is_double()) {
    double const threads = static_cast<double>(r.at("threads").to_number<std::int64_t>());
    r["client_saturated"] = cpu->as_double() > 0.9 * threads;
  }
  if (json) {
    boost::json::value v = r;
    tidy(v);
    std::cout << boost::json::serialize(v) << std::endl;
  }
  // The summary goes to stdout, or to stderr when stdout carries the JSON line.
  std::ostream& out = json ? std::cerr : std::cout;
  out << "parley-bench " << r.at("mode").as_string().c_str() << "\n";
  for (auto const& [k, v] : r) {
    if (k == "tool" || k == "mode") continue;
    out << "  " << std::string(k) << ": ";
    if (v.is_object() && v.as_object().empty()) {
      out << "none";
    } else if (v.is_object()) {
      bool first = true;
      for (auto const& [k2, v2] : v.as_object()) {
        out << (first ? "" : "  ") << std::string(k2) << "=";
        print_value(out, v2);
        first = false;
      }
    } else {
      print_value(out, v);
    }
    out << "\n";
  }
  if (auto const* s = r.if_contains("client_saturated"); s && s->as_bool())
    out << "  WARNING: the load tool used all its CPU; add --threads on a machine with a spare "
           "CPU\n";
  out.flush();
}

}  // namespace parley::bench
