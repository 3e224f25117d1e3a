#include "parley/core/hub.hpp"

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <charconv>
#include <functional>
#include <unordered_set>
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

void hub::attach(remote_link& link, std::string_view node_tag) {
  link_ = &link;
  message_id_prefix_ += std::string(node_tag) + "-";
}

message_id hub::next_message_id() {
  std::uint64_t n = message_count_.fetch_add(1, std::memory_order_relaxed) + 1;
  message_id id;
  std::size_t prefix = message_id_prefix_.copy(id.data_, 27);
  auto [end, ec] = std::to_chars(id.data_ + prefix, id.data_ + sizeof id.data_, n, 16);
  id.size_ = static_cast<std::uint8_t>(end - id.data_);
  return id;
}

// Who learns that ids went offline everywhere: partners get `left`, watchers `presence`.
struct hub::goodbyes {
  struct gone {
    std::string id;
    sink_list partners, watchers;
  };
  std::vector<gone> ids;

  void send() const {
    for (const gone& g : ids) {
      if (!g.partners.empty()) {
        auto left = protocol::left_frame(g.id);
        for (const auto& s : g.partners)
          s->deliver(left);
      }
      if (!g.watchers.empty()) {
        auto offline = protocol::presence_frame(g.id, false);
        for (const auto& s : g.watchers)
          s->deliver(offline);
      }
    }
  }
};

void hub::add_watchers(const online_entry& entry, sink_list& watchers) const {
  if (auto it = watchers_.find(entry.id()); it != watchers_.end()) {
    watchers.insert(watchers.end(), it->second.begin(), it->second.end());
  }
}

void hub::went_offline(entry_iterator entry, goodbyes& out) {
  auto& gone = out.ids.emplace_back();
  gone.id = entry->first;
  end_partnerships(entry->second, gone.partners);
  add_watchers(entry->second, gone.watchers);
  online_.erase(entry);
}

void hub::join(member& m) {
  sink_list watchers;
  {
    std::lock_guard lock(mutex_);
    auto self = m.self->weak_from_this().lock();
    if (m.joined() || !self) return;
    auto [slot, added] = online_.try_emplace(m.id);
    online_entry& entry = slot->second;
    if (added) entry.key = &slot->first;
    m.entry = &entry;
    entry.connections.push_back(std::move(self));
    if (entry.connections.size() == 1 && link_) link_->local_presence(m.id, true);
    if (added) add_watchers(entry, watchers);
  }
  connections_.fetch_add(1, std::memory_order_relaxed);
  if (!watchers.empty()) {
    auto online = protocol::presence_frame(m.id, true);
    for (const auto& s : watchers)
      s->deliver(online);
  }
}

void hub::leave(member& m) {
  goodbyes told;
  {
    std::lock_guard lock(mutex_);
    if (!m.joined()) return;
    remove_watcher(m);
    online_entry& entry = *std::exchange(m.entry, nullptr);
    erase_one(entry.connections, m.self);
    if (entry.connections.empty()) {
      if (link_) link_->local_presence(m.id, false);
      if (entry.nodes == 0) went_offline(online_.find(m.id), told);
    }
  }
  connections_.fetch_sub(1, std::memory_order_relaxed);
  told.send();
}

// Caller holds the lock. Stops `m` following every id it watches.
void hub::remove_watcher(const member& m) {
  for (const std::string& id : m.watched()) {
    auto it = watchers_.find(id);
    if (it == watchers_.end()) continue;
    erase_one(it->second, m.self);
    if (it->second.empty()) watchers_.erase(it);
  }
}

// Caller holds the lock. Ends every partnership of `entry`, whose id is going offline, and
// collects the partners' connections here, which are to be told it left.
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

void hub::forward(node_set nodes, remote_delivery how, std::string_view from, std::string_view to,
                  const protocol::shared_frame& frame) {
  if (nodes != 0 && link_) link_->forward(nodes, how, from, to, frame);
}

route_result hub::route(const member& from, std::string_view to,
                        const protocol::shared_frame& frame) {
  recipients targets;
  node_set elsewhere = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = online_.find(to);
    if (found == online_.end()) return route_result::offline;
    online_entry& recipient = found->second;
    if (recipient.connections.empty() && !(link_ && link_->reachable())) {
      return route_result::unreachable;
    }
    targets.assign(recipient.connections.begin(), recipient.connections.end());
    elsewhere = recipient.nodes | (from.entry ? from.entry->nodes : 0);
    add_sender_side(from, recipient, targets);
  }
  deliver_all(targets, frame);
  forward(elsewhere, remote_delivery::message, from.id, to, frame);
  return route_result::delivered;
}

bool hub::route_stored(const member& from, std::string_view to,
                       const protocol::shared_frame& frame) {
  recipients targets;
  node_set elsewhere = 0;
  bool delivered = false;
  {
    std::lock_guard lock(mutex_);
    auto found = online_.find(to);
    if (found != online_.end() &&
        (!found->second.connections.empty() || (link_ && link_->reachable()))) {
      delivered = true;
      targets.assign(found->second.connections.begin(), found->second.connections.end());
      elsewhere = found->second.nodes;
      add_sender_side(from, found->second, targets);
    } else if (from.entry) {
      for (const auto& own : from.entry->connections) {
        if (own.get() != from.self) targets.push_back(own);
      }
    }
    if (from.entry) elsewhere |= from.entry->nodes;
  }
  deliver_all(targets, frame);
  // The recipient's other nodes, and the sender's other connections on theirs; a stored message
  // to an unreachable recipient reaches the sender's other nodes as a copy only.
  forward(elsewhere, delivered ? remote_delivery::message : remote_delivery::notify, from.id,
          delivered ? to : std::string_view(from.id), frame);
  return delivered;
}

void hub::notify_others(const member& m, const protocol::shared_frame& frame) {
  recipients targets;
  node_set elsewhere = 0;
  {
    std::lock_guard lock(mutex_);
    auto found = online_.find(m.id);
    if (found == online_.end()) return;
    for (const auto& own : found->second.connections) {
      if (own.get() != m.self) targets.push_back(own);
    }
    elsewhere = found->second.nodes;
  }
  deliver_all(targets, frame);
  forward(elsewhere, remote_delivery::notify, m.id, m.id, frame);
}

bool hub::online(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto found = online_.find(id);
  return found != online_.end() &&
         (!found->second.connections.empty() || (link_ && link_->reachable()));
}

void hub::online(std::span<const std::string_view> ids, std::vector<bool>& out) const {
  out.resize(ids.size());
  bool others_reachable = link_ && link_->reachable();
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto found = online_.find(ids[i]);
    out[i] = found != online_.end() && (!found->second.connections.empty() || others_reachable);
  }
}

void hub::notify(std::string_view to, const protocol::shared_frame& frame) {
  recipients targets;
  node_set elsewhere = 0;
  {
    std::lock_guard lock(mutex_);
    auto recipient = online_.find(to);
    if (recipient == online_.end()) return;
    targets.assign(recipient->second.connections.begin(), recipient->second.connections.end());
    elsewhere = recipient->second.nodes;
  }
  deliver_all(targets, frame);
  forward(elsewhere, remote_delivery::notify, to, to, frame);
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
      ids.push_back(partner->id());  // partners are online: an entry leaves its partners' sets
  }
  for (const std::string& id : asker.watched()) {
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
      if (!m.watches(id)) {
        if (auto self = m.self->weak_from_this().lock()) {
          m.add_watched(id);
          watchers_[std::string(id)].push_back(std::move(self));
        }
      }
      online[i] = online_.contains(id);
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    m.self->deliver(protocol::presence_frame(ids[i], online[i]));
}

void hub::remote_deliver(remote_delivery how, std::string_view from, std::string_view to,
                         const protocol::shared_frame& frame) {
  recipients targets;
  {
    std::lock_guard lock(mutex_);
    auto recipient = online_.find(to);
    if (recipient != online_.end()) {
      targets.assign(recipient->second.connections.begin(), recipient->second.connections.end());
    }
    if (how == remote_delivery::message && from != to) {
      auto sender = online_.find(from);
      if (sender != online_.end()) {
        targets.insert(targets.end(), sender->second.connections.begin(),
                       sender->second.connections.end());
        if (recipient != online_.end()) sender->second.add_partner(&recipient->second);
      }
    }
  }
  deliver_all(targets, frame);
}

void hub::remote_presence(node_set node, std::string_view id, bool online) {
  sink_list watchers;
  goodbyes told;
  {
    std::lock_guard lock(mutex_);
    if (online) {
      auto [slot, added] = online_.try_emplace(std::string(id));
      if (added) {
        slot->second.key = &slot->first;
        add_watchers(slot->second, watchers);
      }
      slot->second.nodes |= node;
    } else if (auto found = online_.find(id); found != online_.end()) {
      found->second.nodes &= ~node;
      if (!found->second.online_anywhere()) went_offline(found, told);
    }
  }
  if (!watchers.empty()) {
    auto frame = protocol::presence_frame(id, true);
    for (const auto& s : watchers)
      s->deliver(frame);
  }
  told.send();
}

template <typename Keep>
void hub::drop_node(node_set node, Keep keep, goodbyes& out) {
  for (auto it = online_.begin(); it != online_.end();) {
    auto next = std::next(it);
    if ((it->second.nodes & node) && !keep(it->first)) {
      it->second.nodes &= ~node;
      if (!it->second.online_anywhere()) went_offline(it, out);
    }
    it = next;
  }
}

void hub::remote_sync(node_set node, std::span<const std::string_view> ids) {
  std::unordered_set<std::string_view> held(ids.begin(), ids.end());
  goodbyes told;
  {
    std::lock_guard lock(mutex_);
    drop_node(
        node, [&](std::string_view id) { return held.contains(id); }, told);
  }
  told.send();
  for (std::string_view id : ids)
    remote_presence(node, id, true);
}

void hub::remote_node_gone(node_set node) {
  goodbyes told;
  {
    std::lock_guard lock(mutex_);
    drop_node(
        node, [](std::string_view) { return false; }, told);
  }
  told.send();
}

void hub::with_local_ids(const std::function<void(std::span<const std::string_view>)>& with) const {
  std::vector<std::string_view> ids;
  std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : online_) {
    if (!entry.connections.empty()) ids.push_back(id);
  }
  with(ids);
}

}  // namespace parley::core
