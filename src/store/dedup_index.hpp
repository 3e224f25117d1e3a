#pragma once
// Private to src/store: the (sender, cid) pairs of the dedup window, in memory. A pair is held
// as a 64-bit hash and the row it names (16 bytes in an open-addressing table, plus 24 in the
// expiry queue), so the window costs no allocation per message and little memory whatever
// the ids and cids; a hit is confirmed against the row itself, so a hash collision is never
// taken for a retry. Only the store's thread touches it.
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

namespace parley::store {

class dedup_index {
 public:
  dedup_index(std::int64_t window_ms, std::size_t max_entries);

  static std::uint64_t key(std::string_view sender, std::string_view cid);

  // What find() knows of a key: a committed row (to be confirmed by the caller: it may be a
  // hash collision), or a message staged in the batch not yet committed.
  struct hit {
    bool staged;
    std::int64_t value;  // the row id, or the staged message's index in its batch
  };
  std::optional<hit> find(std::uint64_t key, std::int64_t now_ms);
  // Marks `key` as the batch's message `staged_index` until commit() or unstage().
  void stage(std::uint64_t key, std::size_t staged_index);
  // The staged key's message is committed as `rowid` at `ts` (also: rows loaded at start).
  void commit(std::uint64_t key, std::int64_t rowid, std::int64_t ts);
  // The staged key's batch was rolled back.
  void unstage(std::uint64_t key);
  // Starts loading `key`'s slot into the cache: a batch prefetches every key before it looks
  // them up, so their cache misses overlap instead of following one another.
  void prefetch(std::uint64_t key) const { __builtin_prefetch(&slots_[key & (slots_.size() - 1)]); }
  std::size_t size() const { return order_.size(); }

 private:
  struct slot {
    std::uint64_t key;
    // > 0: a row id; 0: empty; -1: erased (probing goes on past it); <= -2: staged, as
    // -2 - the message's index in its batch.
    std::int64_t rowid;
  };
  static constexpr std::int64_t empty = 0, erased = -1, first_staged = -2;

  void expire(std::int64_t now_ms);
  void forget_oldest();
  slot* locate(std::uint64_t key);  // the slot holding key, or null
  void insert(std::uint64_t key, std::int64_t rowid);
  void grow();

  struct remembered {
    std::int64_t ts;
    std::uint64_t key;
    std::int64_t rowid;
  };
  std::int64_t window_ms_;
  std::size_t max_entries_;
  std::vector<slot> slots_;       // a power of two in size, at most half full (erased slots count)
  std::size_t used_ = 0;          // slots not empty
  std::deque<remembered> order_;  // oldest first
};

}  // namespace parley::store
