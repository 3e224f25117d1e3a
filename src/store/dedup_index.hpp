#pragma once
// Private to src/store: the (sender, cid) pairs of the dedup window, in memory. A pair is held
// as a 64-bit hash and the row it names, so an entry costs about 50 bytes whatever the ids and
// cids; a hit is confirmed against the row itself, so a hash collision is never a false retry.
// Only the store's thread touches it.
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace parley::store {

class dedup_index {
 public:
  dedup_index(std::int64_t window_ms, std::size_t max_entries)
      : window_ms_(window_ms), max_entries_(max_entries) {}

  static std::uint64_t key(std::string_view sender, std::string_view cid);
  // The row stored for `key` within the window, if any (to be confirmed by the caller).
  std::optional<std::int64_t> find(std::uint64_t key, std::int64_t now_ms);
  void add(std::uint64_t key, std::int64_t rowid, std::int64_t ts);

 private:
  void expire(std::int64_t now_ms);
  struct remembered {
    std::int64_t ts;
    std::uint64_t key;
    std::int64_t rowid;
  };
  std::int64_t window_ms_;
  std::size_t max_entries_;
  std::unordered_map<std::uint64_t, std::int64_t> rows_;
  std::deque<remembered> order_;  // oldest first
};

}  // namespace parley::store
