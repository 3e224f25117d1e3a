#include "conversation_index.hpp"

#include <algorithm>

namespace parley::store {

namespace {

// Writes the key of the unordered pair {x, y} into `key` (ids never hold a newline).
const std::string& pair_key(std::string& key, std::string_view x, std::string_view y) {
  if (y < x) std::swap(x, y);
  key.assign(x).push_back('\n');
  key.append(y);
  return key;
}

const std::vector<conversation*> none;

}  // namespace

conversation* conversation_index::find(std::string_view x, std::string_view y) {
  auto it = by_pair_.find(pair_key(key_, x, y));
  return it == by_pair_.end() ? nullptr : it->second.get();
}

conversation* conversation_index::find_by_db_id(std::int64_t db_id) {
  auto it = by_db_id_.find(db_id);
  return it == by_db_id_.end() ? nullptr : it->second;
}

conversation& conversation_index::add(std::int64_t db_id, std::string_view x, std::string_view y) {
  if (y < x) std::swap(x, y);
  auto made = std::make_unique<conversation>();
  conversation& c = *made;
  c.db_id = db_id;
  c.a = x;
  c.b = y;
  by_pair_.emplace(pair_key(key_, x, y), std::move(made));
  if (db_id != 0) by_db_id_.emplace(db_id, &c);
  by_id_[c.a].push_back(&c);
  if (c.b != c.a) by_id_[c.b].push_back(&c);
  return c;
}

void conversation_index::set_db_id(conversation& c, std::int64_t db_id) {
  if (c.db_id != 0) by_db_id_.erase(c.db_id);
  c.db_id = db_id;
  if (db_id != 0) by_db_id_.emplace(db_id, &c);
}

void conversation_index::append(conversation& c, std::int64_t rowid, std::int64_t seq,
                                std::string_view from, std::int64_t ts, bool delivered) {
  if (c.entries.empty()) c.first_seq = seq;
  c.entries.push_back(rowid << 1 | (c.is_a(from) ? 1 : 0));
  c.last_seq = seq;
  c.last_ts = ts;
  c.last_rowid = rowid;
  const std::string& to = c.peer_of(from);
  if (to != from) add_undelivered(to, 1);
  advance_delivered(c, from, seq);
  if (delivered) advance_delivered(c, to, seq);
}

std::int64_t conversation_index::from_others(const conversation& c, std::string_view id,
                                             std::int64_t from, std::int64_t to) {
  std::int64_t n = 0;
  for (std::int64_t seq = std::max(from + 1, c.first_seq); seq <= to && c.kept(seq); ++seq)
    n += c.sender(seq) != id;
  return n;
}

bool conversation_index::advance_delivered(conversation& c, std::string_view id, std::int64_t seq) {
  cursor& mine = c.cursor_of(id);
  if (seq <= mine.delivered) return false;
  if (c.a != c.b) add_undelivered(id, -from_others(c, id, mine.delivered, seq));
  mine.delivered = seq;
  return true;
}

bool conversation_index::advance_read(conversation& c, std::string_view id, std::int64_t seq) {
  cursor& mine = c.cursor_of(id);
  if (seq <= mine.read) return false;
  mine.read = seq;
  advance_delivered(c, id, seq);
  return true;
}

void conversation_index::drop_before(std::int64_t rowid) {
  for (auto& [key, c] : by_pair_) {
    std::size_t dropped = 0;
    while (dropped < c->entries.size() && (c->entries[dropped] >> 1) < rowid)
      ++dropped;
    if (dropped == 0) continue;
    // Dropped messages no longer wait for anyone.
    for (const std::string* id : {&c->a, &c->b}) {
      if (c->a == c->b && id == &c->b) break;
      std::int64_t kept_from = c->first_seq + static_cast<std::int64_t>(dropped) - 1;
      std::int64_t delivered = c->cursor_of(*id).delivered;
      if (kept_from > delivered) add_undelivered(*id, -from_others(*c, *id, delivered, kept_from));
    }
    c->entries.erase(c->entries.begin(), c->entries.begin() + static_cast<long>(dropped));
    c->first_seq += static_cast<std::int64_t>(dropped);
  }
}

std::vector<const conversation*> conversation_index::emptied_by(std::int64_t rowid) const {
  std::vector<const conversation*> emptied;
  for (const auto& [key, c] : by_pair_) {
    if (!c->entries.empty() && c->last_rowid < rowid) emptied.push_back(c.get());
  }
  return emptied;
}

void conversation_index::add_undelivered(std::string_view id, std::int64_t n) {
  if (n == 0) return;
  auto it = undelivered_.find(id);
  if (it == undelivered_.end()) it = undelivered_.emplace(std::string(id), 0).first;
  it->second += n;
  if (it->second <= 0) undelivered_.erase(it);
}

std::int64_t conversation_index::undelivered(std::string_view id) const {
  auto it = undelivered_.find(id);
  return it == undelivered_.end() ? 0 : it->second;
}

const std::vector<conversation*>& conversation_index::of(std::string_view id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? none : it->second;
}

std::vector<waiting_message> conversation_index::waiting_for(std::string_view id, std::size_t max,
                                                             bool& more) {
  std::vector<waiting_message> all;
  for (conversation* c : of(id)) {
    if (c->a == c->b) continue;
    for (std::int64_t seq = std::max(c->cursor_of(id).delivered + 1, c->first_seq);
         seq <= c->last_seq && c->kept(seq); ++seq) {
      if (c->sender(seq) != id) all.push_back({c->rowid(seq), c, seq});
    }
  }
  std::sort(all.begin(), all.end(),
            [](const waiting_message& x, const waiting_message& y) { return x.rowid < y.rowid; });
  more = all.size() > max;
  if (more) all.resize(max);
  return all;
}

std::int64_t conversation_index::unread(const conversation& c, std::string_view id) {
  const std::string& peer = c.peer_of(id);
  std::int64_t n = 0;
  for (std::int64_t seq = std::max(c.cursor_of(id).read + 1, c.first_seq);
       seq <= c.last_seq && c.kept(seq); ++seq)
    n += c.sender(seq) == peer;
  return n;
}

}  // namespace parley::store
