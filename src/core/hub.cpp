#include "parley/core/hub.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <charconv>
#include <utility>

#include "parley/core/clock.hpp"
#include "parley/protocol/server_frames.hpp"

namespace parley::core {

namespace {

// Recipients picked under the lock; most messages go to one or two connections.
using recipients = boost::container::small_vector<std::shared_ptr<sink>, 4>;

void deliver_all(const recipients& to, const protocol::shared_frame& frame) {
  for (const auto& target : to)
    target->deliver(frame);
}

template <typename List>
void erase_one(List& list, const sink* target) {
  auto it =
      std::find_if(list.begin(), list.end(), [&](const auto& s) { return s.get() == target; });
  if (it != list.end()) list.erase(it);
}

std::string hex(std::uint64_t value) {
  char digits[17];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value, 16);
  return std::string(digits, end);
}

}  // namespace

hub::hub() : message_id_prefix_(hex(static_cast<std::uint64_t>(unix_millis())) + "-") {}

message_id hub::next_message_id() {
  std::uint64_t n = message_count_.fetch_add(1, std::memory_order_relaxed) + 1;
  message_id id;
  std::size_t prefix = message_id_prefix_.copy(id.data_, 17);
  auto [end, ec] = std::to_chars(id.data_ + prefix, id.data_ + sizeof id.data_, n, 16);
  id.size_ = static_cast<std::uint8_t>(end - id.data_);
  return id;
}

void hub::join(member& m) {
  recipients watchers;
  {
    std::lock_guard lock(mutex_);
    auto self = m.self_ref.lock();
    if (m.joined || !self) return;
    m.joined = true;
    auto [slot, added] = online_.try_emplace(m.id);
    online_entry& entry = slot->second;
    if (added) entry.id = slot->first;
    m.entry = &entry;
    entry.connections.push_back(std::move(self));
    if (entry.connections.size() == 1) {
      if (auto it = watchers_.find(m.id); it != watchers_.end()) {
        watchers.assign(it->second.begin(), it->second.end());
      }
    }
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  if (!watchers.empty()) deliver_all(watchers, protocol::presence_frame(m.id, true));
}

void hub::leave(member& m) {
  recipients partners, watchers;
  {
    std::lock_guard lock(mutex_);
    if (!m.joined) return;
    m.joined = false;
    remove_watcher(m);
    online_entry& entry = *std::exchange(m.entry, nullptr);
    erase_one(entry.connections, m.self);
    if (entry.connections.empty()) {
      sink_list told;
      end_partnerships(entry, told);
      partners.assign(told.begin(), told.end());
      online_.erase(m.id);
      if (auto w = watchers_.find(m.id); w != watchers_.end()) {
        watchers.assign(w->second.begin(), w->second.end());
      }
    }
  }
  connections_.fetch_sub(1, std::memory_order_relaxed);
  if (!partners.empty()) deliver_all(partners, protocol::left_frame(m.id));
  if (!watchers.empty()) deliver_all(watchers, protocol::presence_frame(m.id, false));
}

// Caller holds the lock. Stops `m` following every id it watches.
void hub::remove_watcher(const member& m) {
  for (const std::string& id : m.watching) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;
    erase_one(it->second, m.self);
    if (it->second.empty()) watchers_.erase(it);
  }
}

// Caller holds the lock. Ends every partnership of `entry`, whose last connection is closing,
// and collects the partners' connections, which are to be told it left.
void hub::end_partnerships(online_entry& entry, sink_list& told) {
  if (!entry.partners) return;
  for (online_entry* partner : *entry.partners) {
    partner->remove_partner(&entry);
    told.insert(told.end(), partner->connections.begin(), partner->connections.end());
  }
}

void online_entry::add_partner(online_entry* other) {
  if (!partners) partners = std::make_unique<partner_set>();
  if (partners->insert(other).second) other->add_partner(this);
}

void online_entry::remove_partner(online_entry* other) {
  if (partners) partners->erase(other);
}

message_id::message_id(std::string_view text) {
  size_ = static_cast<std::uint8_t>(text.copy(data_, capacity));
}

template <typename Targets>
void hub::add_sender_side(const member& from, online_entry& recipient, Targets& targets) {
  online_entry* sender = from.entry;            // none once the sender has left
  if (sender == &recipient || !sender) return;  // a note to oneself reaches every own connection
  for (const auto& own : sender->connections) {
    if (own.get() != from.self) targets.push_back(own);
  }
  sender->add_partner(&recipient);
}

bool hub::route(const member& from, std::string_view to, const protocol::shared_frame& frame) {
  recipients targets;
  {
    std::lock_guard lock(mutex_);
    auto found = online_.find(to);
    if (found == online_.end()) return false;
    online_entry& recipient = found->second;
    targets.assign(recipient.connections.begin(), recipient.connections.end());
    add_sender_side(from, recipient, targets);
  }
  deliver_all(targets, frame);
  return true;
}

bool hub::route_stored(const member& from, std::string_view to,
                       const protocol::shared_frame& frame) {
  recipients targets;
  bool delivered = false;
  {
    std::lock_guard lock(mutex_);
    if (auto found = online_.find(to); found != online_.end()) {
      delivered = true;
      targets.assign(found->second.connections.begin(), found->second.connections.end());
      add_sender_side(from, found->second, targets);
    } else if (from.entry) {
      for (const auto& own : from.entry->connections) {
        if (own.get() != from.self) targets.push_back(own);
      }
    }
  }
  deliver_all(targets, frame);
  return delivered;
}

void hub::notify_others(const member& m, const protocol::shared_frame& frame) {
  recipients targets;
  {
    std::lock_guard lock(mutex_);
    auto found = online_.find(m.id);
    if (found == online_.end()) return;
    for (const auto& own : found->second.connections) {
      if (own.get() != m.self) targets.push_back(own);
    }
  }
  deliver_all(targets, frame);
}

bool hub::online(std::string_view id) const {
  std::lock_guard lock(mutex_);
  return online_.contains(id);
}

void hub::online(std::span<const std::string_view> ids, std::vector<bool>& out) const {
  out.resize(ids.size());
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < ids.size(); ++i)
    out[i] = online_.contains(ids[i]);
}

void hub::notify(std::string_view to, const protocol::shared_frame& frame) {
  recipients targets;
  {
    std::lock_guard lock(mutex_);
    auto recipient = online_.find(to);
    if (recipient == online_.end()) return;
    targets.assign(recipient->second.connections.begin(), recipient->second.connections.end());
  }
  deliver_all(targets, frame);
}

router::online_list hub::who(std::size_t max_ids) const {
  online_list list;
  std::lock_guard lock(mutex_);
  list.total = online_.size();
  list.ids.reserve(std::min(max_ids, list.total));
  for (const auto& [id, entry] : online_) {
    if (list.ids.size() == max_ids) break;
    list.ids.push_back(id);
  }
  return list;
}

router::online_list hub::who_contacts(const member& asker, std::size_t max_ids) const {
  std::vector<std::string_view> ids;
  std::lock_guard lock(mutex_);
  if (asker.entry && asker.entry->partners) {
    for (const online_entry* partner : *asker.entry->partners)
      ids.push_back(partner->id);  // partners are online: an entry leaves its partners' sets
  }
  for (const std::string& id : asker.watching) {
    if (auto found = online_.find(id); found != online_.end()) ids.push_back(found->first);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  online_list list{{}, ids.size()};
  ids.resize(std::min(ids.size(), max_ids));
  list.ids.assign(ids.begin(), ids.end());
  return list;
}

std::vector<std::shared_ptr<sink>> hub::connections_of(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto found = online_.find(id);
  if (found == online_.end()) return {};
  return {found->second.connections.begin(), found->second.connections.end()};
}

void hub::watch(member& m, std::span<const std::string_view> ids) {
  std::vector<bool> online(ids.size());
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::string_view id = ids[i];
      if (std::find(m.watching.begin(), m.watching.end(), id) == m.watching.end()) {
        if (auto self = m.self_ref.lock()) {
          m.watching.emplace_back(id);
          watchers_[std::string(id)].push_back(std::move(self));
        }
      }
      online[i] = online_.contains(id);
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    m.self->deliver(protocol::presence_frame(ids[i], online[i]));
}

}  // namespace parley::core
