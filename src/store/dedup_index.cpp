#include "dedup_index.hpp"

#include <functional>
#include <string>

namespace parley::store {

std::uint64_t dedup_index::key(std::string_view sender, std::string_view cid) {
  // ids hold no newline. A collision costs only a confirming read (find's caller checks).
  std::string joined;
  joined.reserve(sender.size() + 1 + cid.size());
  joined.append(sender).append(1, '\n').append(cid);
  return std::hash<std::string>{}(joined);
}

std::optional<std::int64_t> dedup_index::find(std::uint64_t key, std::int64_t now_ms) {
  expire(now_ms);
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void dedup_index::add(std::uint64_t key, std::int64_t rowid, std::int64_t ts) {
  rows_[key] = rowid;
  order_.push_back({ts, key, rowid});
  while (order_.size() > max_entries_) {
    const remembered& old = order_.front();
    if (auto it = rows_.find(old.key); it != rows_.end() && it->second == old.rowid)
      rows_.erase(it);
    order_.pop_front();
  }
}

void dedup_index::expire(std::int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().ts >= window_ms_) {
    const remembered& old = order_.front();
    if (auto it = rows_.find(old.key); it != rows_.end() && it->second == old.rowid)
      rows_.erase(it);
    order_.pop_front();
  }
}

}  // namespace parley::store
