#include "conversation_index.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace parley::store {
namespace {

constexpr std::int64_t ts0 = 1'700'000'000'000;

// (conversation's other participant, seq) of each waiting message, in the order given.
std::vector<std::pair<std::string, std::int64_t>> listed(const std::vector<waiting_message>& w,
                                                         std::string_view id) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const waiting_message& m : w)
    out.emplace_back(m.in->peer_of(id), m.seq);
  return out;
}

class ConversationIndex : public testing::Test {
 protected:
  // Appends the next message of `c` from `from` as row `rowid` (rows grow in commit order).
  std::int64_t send(conversation& c, std::string_view from, bool delivered = false) {
    std::int64_t seq = c.last_seq + 1;
    ++rowid;
    index.append(c, rowid, seq, from, ts0 + rowid, delivered);
    return seq;
  }

  conversation_index index;
  std::int64_t rowid = 0;
};

TEST_F(ConversationIndex, PairsAreUnordered) {
  EXPECT_EQ(index.find("a", "b"), nullptr);
  conversation& c = index.add(1, "b", "a");
  EXPECT_EQ(c.a, "a");
  EXPECT_EQ(c.b, "b");
  EXPECT_EQ(index.find("a", "b"), &c);
  EXPECT_EQ(index.find("b", "a"), &c);
  EXPECT_EQ(index.find("a", "c"), nullptr);
  EXPECT_EQ(index.find("a", "a"), nullptr);
  EXPECT_EQ(c.peer_of("a"), "b");
  EXPECT_EQ(c.peer_of("b"), "a");
  EXPECT_EQ(&c.cursor_of("a"), &c.cursor_a);
  EXPECT_EQ(&c.cursor_of("b"), &c.cursor_b);
}

// The pair key must not confuse ids whose concatenations agree.
TEST_F(ConversationIndex, PairKeysDoNotRunTogether) {
  conversation& ab = index.add(1, "ab", "c");
  conversation& a = index.add(2, "a", "bc");
  EXPECT_EQ(index.find("c", "ab"), &ab);
  EXPECT_EQ(index.find("bc", "a"), &a);
}

TEST_F(ConversationIndex, NoteToOneself) {
  conversation& other = index.add(1, "a", "b");
  conversation& self = index.add(2, "a", "a");
  EXPECT_NE(&self, &other);
  EXPECT_EQ(index.find("a", "a"), &self);
  EXPECT_EQ(self.peer_of("a"), "a");
  EXPECT_EQ(index.of("a"), (std::vector<conversation*>{&other, &self}));  // once each
  EXPECT_EQ(index.of("b"), (std::vector<conversation*>{&other}));
  EXPECT_TRUE(index.of("nobody").empty());

  // One's own notes are one's own messages: nothing waits, nothing is unread.
  send(self, "a");
  send(self, "a");
  EXPECT_EQ(self.last_seq, 2);
  EXPECT_EQ(self.cursor_of("a").delivered, 2);
  EXPECT_EQ(index.undelivered("a"), 0);
  bool more = true;
  EXPECT_TRUE(index.waiting_for("a", 10, more).empty());
  EXPECT_FALSE(more);
}

TEST_F(ConversationIndex, DbIds) {
  conversation& c = index.add(0, "a", "b");  // new: no row yet
  EXPECT_EQ(index.find_by_db_id(0), nullptr);
  index.set_db_id(c, 7);
  EXPECT_EQ(c.db_id, 7);
  EXPECT_EQ(index.find_by_db_id(7), &c);
  index.set_db_id(c, 0);  // its row was rolled back
  EXPECT_EQ(c.db_id, 0);
  EXPECT_EQ(index.find_by_db_id(7), nullptr);
  EXPECT_EQ(index.find_by_db_id(0), nullptr);
  index.set_db_id(c, 9);
  EXPECT_EQ(index.find_by_db_id(9), &c);

  conversation& loaded = index.add(3, "x", "y");
  EXPECT_EQ(index.find_by_db_id(3), &loaded);
  EXPECT_EQ(index.find("y", "x"), &loaded);
}

TEST_F(ConversationIndex, AppendKeepsSeqsRowsAndSenders) {
  conversation& c = index.add(1, "a", "b");
  send(c, "a");
  send(c, "b");
  send(c, "b");
  EXPECT_EQ(c.first_seq, 1);
  EXPECT_EQ(c.last_seq, 3);
  EXPECT_EQ(c.last_rowid, 3);
  EXPECT_EQ(c.last_ts, ts0 + 3);
  EXPECT_EQ(c.sender(1), "a");
  EXPECT_EQ(c.sender(2), "b");
  EXPECT_EQ(c.rowid(3), 3);
  EXPECT_TRUE(c.kept(1));
  EXPECT_TRUE(c.kept(3));
  EXPECT_FALSE(c.kept(0));
  EXPECT_FALSE(c.kept(4));
}

TEST_F(ConversationIndex, AppendMovesTheSendersCursorAndTheRecipientsWhenDelivered) {
  conversation& c = index.add(1, "a", "b");
  send(c, "a", /*delivered=*/false);
  EXPECT_EQ(c.cursor_of("a").delivered, 1);
  EXPECT_EQ(c.cursor_of("a").read, 0);  // one's own message is not "read"
  EXPECT_EQ(c.cursor_of("b").delivered, 0);
  EXPECT_EQ(index.undelivered("b"), 1);
  EXPECT_EQ(index.undelivered("a"), 0);

  send(c, "a", /*delivered=*/true);  // b came online: it has both now
  EXPECT_EQ(c.cursor_of("a").delivered, 2);
  EXPECT_EQ(c.cursor_of("b").delivered, 2);
  EXPECT_EQ(index.undelivered("b"), 0);
}

TEST_F(ConversationIndex, AdvanceDeliveredOnlyGrows) {
  conversation& c = index.add(1, "a", "b");
  for (int i = 0; i < 4; ++i)
    send(c, "a");
  EXPECT_EQ(index.undelivered("b"), 4);
  EXPECT_TRUE(index.advance_delivered(c, "b", 3));
  EXPECT_EQ(index.undelivered("b"), 1);
  EXPECT_FALSE(index.advance_delivered(c, "b", 3));
  EXPECT_FALSE(index.advance_delivered(c, "b", 1));
  EXPECT_EQ(c.cursor_of("b").delivered, 3);
  EXPECT_EQ(index.undelivered("b"), 1);
  EXPECT_TRUE(index.advance_delivered(c, "b", 4));
  EXPECT_EQ(index.undelivered("b"), 0);
}

// Undelivered counts add up across conversations, and only count the others' messages.
TEST_F(ConversationIndex, UndeliveredAcrossConversations) {
  conversation& ab = index.add(1, "a", "b");
  conversation& ac = index.add(2, "a", "c");
  send(ab, "b");
  send(ac, "c");
  send(ab, "b");
  send(ac, "a");                         // a's own: a holds everything in ac up to it
  EXPECT_EQ(index.undelivered("a"), 2);  // ab 1, 2; ac 1 passed by a's own message
  EXPECT_EQ(index.undelivered("c"), 1);
  EXPECT_EQ(index.undelivered("b"), 0);
}

// The inbox cap leaves messages behind; a live message may then move the cursor past them
// (protocol-v2 Details), and they stop counting as undelivered.
TEST_F(ConversationIndex, LiveMessageMovesTheCursorPastWhatTheCapLeftBehind) {
  conversation& c = index.add(1, "a", "b");
  for (int i = 0; i < 5; ++i)
    send(c, "b");
  bool more = false;
  auto pushed = index.waiting_for("a", 2, more);
  EXPECT_TRUE(more);
  ASSERT_EQ(pushed.size(), 2u);
  EXPECT_TRUE(index.advance_delivered(c, "a", pushed.back().seq));
  EXPECT_EQ(index.undelivered("a"), 3);

  send(c, "b", /*delivered=*/true);  // seq 6, live
  EXPECT_EQ(c.cursor_of("a").delivered, 6);
  EXPECT_EQ(index.undelivered("a"), 0);
  EXPECT_TRUE(index.waiting_for("a", 10, more).empty());
  EXPECT_FALSE(more);
}

// The same when the live message is the waiting id's own.
TEST_F(ConversationIndex, OwnMessageMovesTheCursorPastWaitingOnes) {
  conversation& c = index.add(1, "a", "b");
  send(c, "b");
  send(c, "b");
  EXPECT_EQ(index.undelivered("a"), 2);
  send(c, "a");
  EXPECT_EQ(c.cursor_of("a").delivered, 3);
  EXPECT_EQ(index.undelivered("a"), 0);
  EXPECT_EQ(index.undelivered("b"), 1);
}

TEST_F(ConversationIndex, AdvanceReadAlsoAdvancesDelivered) {
  conversation& c = index.add(1, "a", "b");
  for (int i = 0; i < 4; ++i)
    send(c, "b");
  EXPECT_TRUE(index.advance_read(c, "a", 3));
  EXPECT_EQ(c.cursor_of("a").read, 3);
  EXPECT_EQ(c.cursor_of("a").delivered, 3);
  EXPECT_EQ(index.undelivered("a"), 1);
  EXPECT_FALSE(index.advance_read(c, "a", 2));
  EXPECT_FALSE(index.advance_read(c, "a", 3));
  EXPECT_EQ(c.cursor_of("a").read, 3);

  // Read behind a delivered cursor: delivered stays where it was.
  EXPECT_TRUE(index.advance_delivered(c, "a", 4));
  EXPECT_EQ(index.undelivered("a"), 0);
  c.cursor_of("a").read = 1;  // as loaded from an older cursor row
  EXPECT_TRUE(index.advance_read(c, "a", 2));
  EXPECT_EQ(c.cursor_of("a").delivered, 4);
  EXPECT_EQ(index.undelivered("a"), 0);
  EXPECT_EQ(c.cursor_of("b").read, 0);
}

TEST_F(ConversationIndex, WaitingForIsInCommitOrderAcrossConversations) {
  conversation& ab = index.add(1, "a", "b");
  conversation& ac = index.add(2, "a", "c");
  conversation& self = index.add(3, "a", "a");
  send(ac, "c");    // row 1: ac 1
  send(ab, "b");    // row 2: ab 1
  send(ab, "a");    // row 3: a's own, ab 2 (moves a's cursor in ab to 2)
  send(ab, "b");    // row 4: ab 3
  send(self, "a");  // row 5: a note
  send(ac, "c");    // row 6: ac 2
  send(ab, "b");    // row 7: ab 4
  bool more = true;
  auto all = index.waiting_for("a", 10, more);
  EXPECT_FALSE(more);
  using list = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(listed(all, "a"), (list{{"c", 1}, {"b", 3}, {"c", 2}, {"b", 4}}));
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_LT(all[i - 1].rowid, all[i].rowid);
  EXPECT_EQ(index.undelivered("a"), 4);

  auto first = index.waiting_for("a", 3, more);
  EXPECT_TRUE(more);
  EXPECT_EQ(listed(first, "a"), (list{{"c", 1}, {"b", 3}, {"c", 2}}));
  auto exact = index.waiting_for("a", 4, more);
  EXPECT_FALSE(more);
  EXPECT_EQ(exact.size(), 4u);
  auto none = index.waiting_for("a", 0, more);
  EXPECT_TRUE(more);
  EXPECT_TRUE(none.empty());

  // b has a's message: b's own message after it (ab 3) moved b's cursor past it.
  EXPECT_TRUE(index.waiting_for("b", 10, more).empty());
  EXPECT_EQ(index.undelivered("b"), 0);
  EXPECT_TRUE(index.waiting_for("nobody", 10, more).empty());
  EXPECT_FALSE(more);
}

TEST_F(ConversationIndex, UnreadCountsOnlyThePeersMessages) {
  conversation& c = index.add(1, "a", "b");
  send(c, "b");
  send(c, "a");
  send(c, "b");
  send(c, "a");
  send(c, "b");
  EXPECT_EQ(conversation_index::unread(c, "a"), 3);
  EXPECT_EQ(conversation_index::unread(c, "b"), 2);
  index.advance_read(c, "a", 3);
  EXPECT_EQ(conversation_index::unread(c, "a"), 1);
  index.advance_read(c, "a", 5);
  EXPECT_EQ(conversation_index::unread(c, "a"), 0);
  EXPECT_EQ(conversation_index::unread(c, "b"), 2);
  conversation& empty = index.add(2, "a", "z");
  EXPECT_EQ(conversation_index::unread(empty, "a"), 0);
}

TEST_F(ConversationIndex, DropBeforeMovesFirstSeqAndTheUndeliveredCounts) {
  conversation& ab = index.add(1, "a", "b");
  conversation& ac = index.add(2, "a", "c");
  send(ab, "b");  // row 1
  send(ab, "b");  // row 2
  send(ac, "c");  // row 3
  send(ab, "b");  // row 4
  send(ac, "a");  // row 5
  EXPECT_EQ(index.undelivered("a"), 3);
  EXPECT_EQ(index.undelivered("c"), 1);
  index.advance_delivered(ab, "a", 1);
  EXPECT_EQ(index.undelivered("a"), 2);

  index.drop_before(4);  // rows 1 to 3 leave
  EXPECT_EQ(ab.first_seq, 3);
  EXPECT_EQ(ab.last_seq, 3);
  EXPECT_EQ(ab.entries.size(), 1u);
  EXPECT_FALSE(ab.kept(2));
  EXPECT_TRUE(ab.kept(3));
  EXPECT_EQ(ab.rowid(3), 4);
  EXPECT_EQ(ac.first_seq, 2);
  EXPECT_EQ(ac.sender(2), "a");
  // ab 2 (undelivered) is gone; ab 1 was delivered; ac 1 was passed by a's own message.
  EXPECT_EQ(index.undelivered("a"), 1);
  EXPECT_EQ(index.undelivered("c"), 1);
  bool more = true;
  using list = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(listed(index.waiting_for("a", 10, more), "a"), (list{{"b", 3}}));
  EXPECT_EQ(conversation_index::unread(ab, "a"), 1);

  // Cursors do not move; a cursor later passing the dropped range counts only kept messages.
  EXPECT_EQ(ab.cursor_of("a").delivered, 1);
  EXPECT_TRUE(index.advance_delivered(ab, "a", 3));
  EXPECT_EQ(index.undelivered("a"), 0);
}

TEST_F(ConversationIndex, DropEverythingThenGoOn) {
  conversation& c = index.add(1, "a", "b");
  send(c, "a");
  send(c, "a");
  EXPECT_EQ(index.undelivered("b"), 2);
  index.drop_before(100);
  EXPECT_TRUE(c.entries.empty());
  EXPECT_EQ(c.first_seq, 3);  // last_seq + 1: nothing kept
  EXPECT_EQ(c.last_seq, 2);
  EXPECT_EQ(index.undelivered("b"), 0);
  bool more = true;
  EXPECT_TRUE(index.waiting_for("b", 10, more).empty());
  EXPECT_EQ(conversation_index::unread(c, "b"), 0);

  rowid = 100;
  EXPECT_EQ(send(c, "a"), 3);
  EXPECT_EQ(c.first_seq, 3);
  EXPECT_TRUE(c.kept(3));
  EXPECT_EQ(index.undelivered("b"), 1);
  EXPECT_EQ(conversation_index::unread(c, "b"), 1);
  index.drop_before(1);  // nothing that old: no change
  EXPECT_EQ(c.first_seq, 3);
  EXPECT_EQ(c.entries.size(), 1u);
}

TEST_F(ConversationIndex, EmptiedByListsTheConversationsADropEmpties) {
  conversation& ab = index.add(1, "a", "b");
  conversation& ac = index.add(2, "a", "c");
  index.add(3, "a", "d");  // never had a message
  send(ab, "a");           // row 1
  send(ac, "a");           // row 2
  send(ab, "b");           // row 3
  EXPECT_TRUE(index.emptied_by(1).empty());
  EXPECT_EQ(index.emptied_by(3), (std::vector<const conversation*>{&ac}));
  index.drop_before(3);
  EXPECT_TRUE(index.emptied_by(3).empty());  // ac has nothing left to lose
  EXPECT_EQ(index.emptied_by(4), (std::vector<const conversation*>{&ab}));
}

// As the store loads a database whose first rows retention deleted: the first seq appended is
// where the conversation's kept range starts.
TEST_F(ConversationIndex, LoadedConversationStartsAtItsFirstKeptSeq) {
  conversation& c = index.add(1, "a", "b");
  index.append(c, 40, 17, "b", ts0, false);
  index.append(c, 41, 18, "a", ts0 + 1, false);
  EXPECT_EQ(c.first_seq, 17);
  EXPECT_EQ(c.last_seq, 18);
  EXPECT_EQ(c.sender(17), "b");
  EXPECT_EQ(index.undelivered("a"), 0);  // a's own message at 18 passed 17
  EXPECT_EQ(index.undelivered("b"), 1);
}

}  // namespace
}  // namespace parley::store
