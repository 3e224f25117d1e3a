#pragma once
// A fixed-size log-linear histogram of durations in nanoseconds (like HdrHistogram: 64
// sub-buckets per power of two, under 1.6% error). Recording never allocates.

#include <array>
#include <cstdint>

namespace parley::bench {

class latency_histogram {
 public:
  void record(std::int64_t ns);
  void merge(latency_histogram const& other);
  void reset();
  std::uint64_t count() const { return count_; }
  std::int64_t max() const { return max_; }
  // The value at quantile q (0..1], as the upper edge of its bucket; 0 when empty.
  std::int64_t quantile(double q) const;

 private:
  static constexpr int sub_bits = 6;    // 64 sub-buckets per power of two
  static constexpr int exponents = 40;  // up to ~2^45 ns, about 9.7 hours
  static constexpr int buckets = (exponents + 1) << sub_bits;
  static int index_of(std::uint64_t v);
  static std::int64_t upper_edge(int index);

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace parley::bench
