#pragma once
// Private to src/store: what the SQLite store keeps in memory so that its hot path only
// appends. The messages table has no secondary index (an index on a conversation or a random
// key costs SQLite 15-25x the write rate: shared/notes/sqlite-write-path.md); instead this
// index maps each conversation's seqs to row ids, holds the cursors, and counts what waits for
// each id. It is rebuilt from the database at start. Only the store's thread touches it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley::store {

struct cursor {
  std::int64_t delivered = 0;  // the highest seq handed to one of the participant's connections
  std::int64_t read = 0;       // the highest seq the participant said it has read
};

// The conversation {a, b} (a <= b; a note to oneself is {a, a}).
struct conversation {
  std::int64_t db_id = 0;
  std::string a, b;
  std::int64_t first_seq = 1;  // the oldest kept
  // One per kept message, seq first_seq + i: its row id << 1 | (1 if a sent it). 8 bytes a
  // message is the whole memory cost of the history index.
  std::vector<std::int64_t> entries;
  std::int64_t last_seq = 0;  // committed; above the kept range when retention dropped all
  std::int64_t last_ts = 0;
  std::int64_t last_rowid = 0;  // commit order of the latest message: sorts by activity
  cursor cursor_a, cursor_b;

  bool is_a(std::string_view id) const { return id == a; }
  const std::string& peer_of(std::string_view id) const { return is_a(id) ? b : a; }
  cursor& cursor_of(std::string_view id) { return is_a(id) ? cursor_a : cursor_b; }
  const cursor& cursor_of(std::string_view id) const { return is_a(id) ? cursor_a : cursor_b; }
  // The sender of the kept message `seq`.
  const std::string& sender(std::int64_t seq) const { return (entry(seq) & 1) ? a : b; }
  std::int64_t rowid(std::int64_t seq) const { return entry(seq) >> 1; }
  bool kept(std::int64_t seq) const {
    return seq >= first_seq && seq < first_seq + static_cast<std::int64_t>(entries.size());
  }

 private:
  std::int64_t entry(std::int64_t seq) const {
    return entries[static_cast<std::size_t>(seq - first_seq)];
  }
};

// A message waiting for an id, as the inbox pushes them: commit order across conversations.
struct waiting_message {
  std::int64_t rowid;
  conversation* in;
  std::int64_t seq;
};

class conversation_index {
 public:
  conversation* find(std::string_view x, std::string_view y);
  conversation* find_by_db_id(std::int64_t db_id);
  // Adds a conversation: loaded from the database, or new (db_id 0) until written to it.
  conversation& add(std::int64_t db_id, std::string_view x, std::string_view y);
  // The conversation's row in the database was written (db_id > 0) or rolled back (0).
  void set_db_id(conversation& c, std::int64_t db_id);

  // A committed message: the next seq of `c`. The sender holds its own message (its delivered
  // cursor moves); so does the recipient when `delivered`; otherwise it waits for it.
  void append(conversation& c, std::int64_t rowid, std::int64_t seq, std::string_view from,
              std::int64_t ts, bool delivered);
  // Moves `id`'s delivered cursor in `c` up to `seq`; true when it moved.
  bool advance_delivered(conversation& c, std::string_view id, std::int64_t seq);
  // Moves `id`'s read cursor (and its delivered one, since what is read was delivered).
  bool advance_read(conversation& c, std::string_view id, std::int64_t seq);
  // Forgets every message before row `rowid` (retention); their seqs leave history.
  void drop_before(std::int64_t rowid);
  // The conversations drop_before(rowid) would leave without a kept message.
  std::vector<const conversation*> emptied_by(std::int64_t rowid) const;

  // Messages to `id` from others that no connection of `id` has been handed.
  std::int64_t undelivered(std::string_view id) const;
  // The oldest of them, at most `max`, in commit order; `more` when some were left behind.
  std::vector<waiting_message> waiting_for(std::string_view id, std::size_t max, bool& more);
  const std::vector<conversation*>& of(std::string_view id) const;
  // The peer's messages after `id`'s read cursor.
  static std::int64_t unread(const conversation& c, std::string_view id);

 private:
  // Messages in seqs (from, to] of `c` sent by others than `id`: what a cursor passes over.
  static std::int64_t from_others(const conversation& c, std::string_view id, std::int64_t from,
                                  std::int64_t to);
  void add_undelivered(std::string_view id, std::int64_t n);

  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

  string_map<std::unique_ptr<conversation>> by_pair_;  // "a\nb"
  std::unordered_map<std::int64_t, conversation*> by_db_id_;
  string_map<std::vector<conversation*>> by_id_;
  string_map<std::int64_t> undelivered_;
  std::string key_;  // find's key, reused: no allocation per message
};

}  // namespace parley::store
