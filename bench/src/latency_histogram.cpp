#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>

namespace parley::bench {

int latency_histogram::index_of(std::uint64_t v) {
  if (v < (std::uint64_t{1} << sub_bits)) return static_cast<int>(v);
  int const msb = std::bit_width(v) - 1;  // >= sub_bits
  int const shift = msb - sub_bits;
  int const exp = std::min(shift + 1, exponents);
  int const sub = static_cast<int>((v >> shift) & ((1u << sub_bits) - 1));
  if (shift + 1 > exponents) return buckets - 1;
  return (exp << sub_bits) + sub;
}

std::int64_t latency_histogram::upper_edge(int index) {
  int const exp = index >> sub_bits;
  std::int64_t const sub = index & ((1 << sub_bits) - 1);
  if (exp == 0) return sub;
  int const shift = exp - 1;
  return (((std::int64_t{1} << sub_bits) + sub + 1) << shift) - 1;
}

void latency_histogram::record(std::int64_t ns) {
  std::uint64_t const v = ns < 0 ? 0 : static_cast<std::uint64_t>(ns);
  ++counts_[index_of(v)];
  ++count_;
  if (static_cast<std::int64_t>(v) > max_) max_ = static_cast<std::int64_t>(v);
}

void latency_histogram::merge(latency_histogram const& other) {
  for (int i = 0; i < buckets; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

void latency_histogram::reset() {
  *this = latency_histogram{};
}

std::int64_t latency_histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto const rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
  std::uint64_t seen = 0;
  for (int i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upper_edge(i), max_);
  }
  return max_;
}

}  // namespace parley::bench
