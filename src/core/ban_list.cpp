#include "parley/core/ban_list.hpp"

namespace parley::core {

bool ban_list::ban(std::string_view id, std::int64_t until_ms, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (auto found = until_.find(id); found != until_.end()) {
    found->second = until_ms;
    return true;
  }
  if (until_.size() >= max_ids_) sweep(now_ms);
  if (until_.size() >= max_ids_) return false;
  until_.emplace(std::string(id), until_ms);
  return true;
}

std::optional<std::int64_t> ban_list::banned_until(std::string_view id, std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  auto found = until_.find(id);
  if (found == until_.end() || found->second <= now_ms) return std::nullopt;
  return found->second;
}

std::size_t ban_list::size() const {
  std::lock_guard lock(mutex_);
  return until_.size();
}

void ban_list::sweep(std::int64_t now_ms) {
  std::erase_if(until_, [now_ms](const auto& entry) { return entry.second <= now_ms; });
}

}  // namespace parley::core
