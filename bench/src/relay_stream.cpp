#include "relay_stream.hpp"

#include <algorithm>

namespace parley::bench {

relay_stream::arrival relay_stream::accept(std::uint64_t s) {
  if (s >= max_seen_) {
    std::uint64_t const from = s - max_seen_ >= seen_window ? s + 1 - seen_window : max_seen_;
    for (std::uint64_t k = from; k <= s; ++k)
      clear(k);  // at most 1024 turns
    set(s);
    max_seen_ = s + 1;
    ++received_;
    return arrival::fresh;
  }
  if (max_seen_ - s > seen_window) return arrival::stale;
  if (test(s)) return arrival::duplicated;
  set(s);
  ++received_;
  return arrival::reordered;
}

void relay_stream::refuse(std::uint64_t s) {
  ++refused_;
  if (!refused_ranges_.empty() && refused_ranges_.back().second == s) {
    ++refused_ranges_.back().second;
  } else if (refused_ranges_.size() < max_refused_ranges) {
    refused_ranges_.emplace_back(s, s + 1);
  } else {
    ++refused_untracked_;
  }
}

relay_stream::end_counts relay_stream::at_end() const {
  std::uint64_t holes = max_seen_ - std::min(max_seen_, received_);
  std::uint64_t tail = next_seq - std::min(next_seq, max_seen_);
  // Refusals below the highest number received explain holes; the others explain the tail.
  std::uint64_t below = 0;
  for (auto const& [first, end] : refused_ranges_)
    if (first < max_seen_) below += std::min(end, max_seen_) - first;
  std::uint64_t const above = refused_ - refused_untracked_ - below;
  holes -= std::min(holes, below);
  tail -= std::min(tail, above);
  // Untracked refusals (past the range limit): explain holes first, since a refused run
  // usually ends when the store comes back and later messages arrive.
  std::uint64_t const untracked_holes = std::min(holes, refused_untracked_);
  holes -= untracked_holes;
  tail -= std::min(tail, refused_untracked_ - untracked_holes);
  return {holes, tail};
}

}  // namespace parley::bench
