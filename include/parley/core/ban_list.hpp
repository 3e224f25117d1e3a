#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::core {

// Ids an operator has banned, each until a Unix millisecond: their upgrades are refused (403
// "banned") until then. Bounded: at most `max_ids` at once; expired bans are swept when the
// table is full, and a ban that still finds no room is refused (the caller answers 503), so a
// runaway script cannot grow it without end. Thread-safe (one mutex, held for a lookup).
class ban_list {
 public:
  explicit ban_list(std::size_t max_ids) : max_ids_(max_ids) {}

  // Bans `id` until `until_ms` (a later ban of the same id replaces it). False when the table
  // is full of bans that have not expired at `now_ms`.
  bool ban(std::string_view id, std::int64_t until_ms, std::int64_t now_ms);
  // When `id`'s ban ends, if it is banned at `now_ms`.
  std::optional<std::int64_t> banned_until(std::string_view id, std::int64_t now_ms) const;
  // Bans held, expired ones not yet swept included.
  std::size_t size() const;
  std::size_t max_ids() const { return max_ids_; }

 private:
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  void sweep(std::int64_t now_ms);  // caller holds the lock

  const std::size_t max_ids_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t, string_hash, std::equal_to<>> until_;
};

}  // namespace parley::core
