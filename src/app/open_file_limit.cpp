#include "parley/app/open_file_limit.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace parley::app {

namespace {

// Linux refuses a soft limit above fs.nr_open (1048576 by default), so "unlimited" is this.
constexpr rlim_t unlimited_files = 1048576;

}  // namespace

std::size_t reserved_descriptors(unsigned threads) {
  constexpr std::size_t fixed = 64;  // streams, listener, pages in flight, static, TLS, store
  constexpr std::size_t per_thread = 4;
  return fixed + per_thread * threads;
}

open_file_fit fit_open_file_limit(std::size_t max_connections, unsigned threads) {
  open_file_fit fit;
  fit.reserved = reserved_descriptors(threads);
  fit.max_connections = max_connections;
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return fit;  // unknown: nothing to fit
  fit.soft_before = files.rlim_cur;
  rlim_t hard = files.rlim_max == RLIM_INFINITY ? unlimited_files : files.rlim_max;
  fit.hard = hard;
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < hard) {
    rlimit raised{hard, files.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) files.rlim_cur = hard;
  }
  if (files.rlim_cur == RLIM_INFINITY) files.rlim_cur = unlimited_files;
  fit.limit = files.rlim_cur;
  std::size_t room = fit.limit > fit.reserved ? fit.limit - fit.reserved : 1;
  if (max_connections > room) {
    fit.lowered_from = max_connections;
    fit.max_connections = std::max<std::size_t>(room, 1);
  }
  return fit;
}

}  // namespace parley::app
