#include "dedup_index.hpp"

#include <functional>

namespace parley::store {

namespace {
constexpr std::size_t first_size = 1024;
// Spreads a hash's bits over the low ones the table indexes with (the 64-bit finalizer of
// MurmurHash3): std::hash of a string is good, but the combination below is not mixed.
std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}
}  // namespace

dedup_index::dedup_index(std::int64_t window_ms, std::size_t max_entries)
    : window_ms_(window_ms), max_entries_(max_entries), slots_(first_size, slot{0, empty}) {}

std::uint64_t dedup_index::key(std::string_view sender, std::string_view cid) {
  // A collision costs only a confirming read (find's caller checks the row).
  std::hash<std::string_view> h;
  return mix(h(sender) * 31 + h(cid));
}

dedup_index::slot* dedup_index::locate(std::uint64_t key) {
  std::size_t mask = slots_.size() - 1;
  for (std::size_t i = key & mask;; i = (i + 1) & mask) {
    slot& s = slots_[i];
    if (s.rowid == empty) return nullptr;
    if (s.rowid != erased && s.key == key) return &s;
  }
}

void dedup_index::insert(std::uint64_t key, std::int64_t rowid) {
  if (slot* s = locate(key)) {
    s->rowid = rowid;
    return;
  }
  if (2 * (used_ + 1) > slots_.size()) grow();
  std::size_t mask = slots_.size() - 1;
  std::size_t i = key & mask;
  while (slots_[i].rowid != empty && slots_[i].rowid != erased)
    i = (i + 1) & mask;
  if (slots_[i].rowid == empty) ++used_;
  slots_[i] = {key, rowid};
}

// Rehashes into a table sized for the live entries, committed and staged (erased slots are
// dropped), a quarter full: many inserts before the next growth.
void dedup_index::grow() {
  std::size_t live = 0;
  for (const slot& s : slots_)
    live += s.rowid != empty && s.rowid != erased;
  std::size_t size = first_size;
  while (size < 4 * (live + 1))
    size *= 2;
  std::vector<slot> old(size, slot{0, empty});
  old.swap(slots_);
  used_ = 0;
  std::size_t mask = slots_.size() - 1;
  for (const slot& s : old) {
    if (s.rowid == empty || s.rowid == erased) continue;
    std::size_t i = s.key & mask;
    while (slots_[i].rowid != empty)
      i = (i + 1) & mask;
    slots_[i] = s;
    ++used_;
  }
}

std::optional<dedup_index::hit> dedup_index::find(std::uint64_t key, std::int64_t now_ms) {
  expire(now_ms);
  slot* s = locate(key);
  if (!s) return std::nullopt;
  if (s->rowid <= first_staged) return hit{true, first_staged - s->rowid};
  return hit{false, s->rowid};
}

void dedup_index::stage(std::uint64_t key, std::size_t staged_index) {
  insert(key, first_staged - static_cast<std::int64_t>(staged_index));
}

void dedup_index::commit(std::uint64_t key, std::int64_t rowid, std::int64_t ts) {
  insert(key, rowid);
  order_.push_back({ts, key, rowid});
  while (order_.size() > max_entries_)
    forget_oldest();
}

void dedup_index::unstage(std::uint64_t key) {
  if (slot* s = locate(key); s && s->rowid <= first_staged) s->rowid = erased;
}

void dedup_index::forget_oldest() {
  const remembered& old = order_.front();
  // A newer message may have taken the key since: that one stays.
  if (slot* s = locate(old.key); s && s->rowid == old.rowid) s->rowid = erased;
  order_.pop_front();
}

void dedup_index::expire(std::int64_t now_ms) {
  while (!order_.empty() && now_ms - order_.front().ts >= window_ms_)
    forget_oldest();
}

}  // namespace parley::store
