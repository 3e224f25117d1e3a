#include "parley/core/hub.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "parley/protocol/server_frames.hpp"
#include "support/frames.hpp"

namespace parley::core {
namespace {

using test::json_object;
using test::recording_sink;
using json_list = std::vector<boost::json::object>;

// One connection: its member entry and the sink that records what the hub delivers to it.
struct connection {
  explicit connection(std::string id)
      : out(std::make_shared<recording_sink>()), m{std::move(id), out.get()} {}
  std::shared_ptr<recording_sink> out;
  member m;
};

class Hub : public testing::Test {
 protected:
  std::unique_ptr<connection> join(const std::string& id) {
    auto c = std::make_unique<connection>(id);
    h.join(c->m);
    return c;
  }
  // Routes a msg from `from` to `to` and returns the frame routed.
  protocol::shared_frame send(connection& from, std::string_view to, bool expect_delivered = true) {
    auto frame = protocol::chat_message_frame(from.m.id, to, "hi", h.next_message_id(), 1);
    EXPECT_EQ(h.route(from.m, to, frame) == route_result::delivered, expect_delivered);
    return frame;
  }
  static json_list left(std::string_view id) {
    return {json_object(R"({"type":"left","id":")" + std::string(id) + R"("})")};
  }
  static json_list presence(std::string_view id, bool online) {
    return {json_object(R"({"type":"presence","id":")" + std::string(id) + R"(","online":)" +
                        (online ? "true" : "false") + "}")};
  }

  hub h;
};

TEST_F(Hub, JoinAndLeaveCountConnections) {
  EXPECT_EQ(h.connection_count(), 0u);
  auto a = join("a");
  auto a2 = join("a");
  auto b = join("b");
  EXPECT_EQ(h.connection_count(), 3u);
  h.leave(a->m);
  EXPECT_EQ(h.connection_count(), 2u);
  EXPECT_EQ(a->out->count(), 0u);  // joining and leaving send nothing to the connection itself
}

TEST_F(Hub, JoinAndLeaveAreIdempotent) {
  auto a = join("a");
  h.join(a->m);
  EXPECT_EQ(h.connection_count(), 1u);
  EXPECT_EQ(h.who(10).total, 1u);
  h.leave(a->m);
  h.leave(a->m);
  EXPECT_EQ(h.connection_count(), 0u);
  EXPECT_EQ(h.who(10).total, 0u);

  connection never("n");
  h.leave(never.m);  // never joined
  EXPECT_EQ(h.connection_count(), 0u);
}

// The hub takes its reference from the sink itself (weak_from_this); without a live one it
// cannot deliver, so it does not join.
TEST_F(Hub, JoinNeedsALiveSink) {
  recording_sink orphan;
  member m{"a", &orphan};
  h.join(m);
  EXPECT_FALSE(m.joined());
  EXPECT_EQ(h.connection_count(), 0u);
  EXPECT_EQ(h.who(10).total, 0u);
  h.leave(m);
  EXPECT_EQ(h.connection_count(), 0u);
}

// From join to leave the hub keeps the sink alive, and lets go of it after.
TEST_F(Hub, HoldsTheSinkOnlyWhileJoined) {
  auto a = join("a");
  std::weak_ptr<recording_sink> weak = a->out;
  EXPECT_EQ(weak.use_count(), 2);  // the connection's and the hub's
  h.leave(a->m);
  EXPECT_EQ(weak.use_count(), 1);
}

TEST_F(Hub, RouteToOfflineIdDeliversNothing) {
  auto a = join("a");
  auto a2 = join("a");
  send(*a, "nobody", false);
  EXPECT_EQ(a->out->count(), 0u);
  EXPECT_EQ(a2->out->count(), 0u);
}

// protocol.md: a message to an id goes to all its connections, and a copy to the sender's other
// connections; the frame is built once and shared.
TEST_F(Hub, RouteReachesEveryConnectionOfTheRecipientAndTheSendersOthers) {
  auto a = join("a");
  auto a2 = join("a");
  auto b = join("b");
  auto b2 = join("b");
  auto c = join("c");
  auto frame = send(*a, "b");
  for (auto* target : {b.get(), b2.get(), a2.get()}) {
    ASSERT_EQ(target->out->count(), 1u);
    EXPECT_EQ(target->out->frames()[0], frame);  // the same object, not a copy
  }
  EXPECT_EQ(a->out->count(), 0u);
  EXPECT_EQ(c->out->count(), 0u);
}

TEST_F(Hub, MessageToOneselfReachesEveryOwnConnection) {
  auto a = join("a");
  auto a2 = join("a");
  auto frame = send(*a, "a");
  ASSERT_EQ(a->out->count(), 1u);
  ASSERT_EQ(a2->out->count(), 1u);
  EXPECT_EQ(a->out->frames()[0], frame);
  EXPECT_EQ(a2->out->frames()[0], frame);
}

TEST_F(Hub, NoteToOneselfMakesNoPartner) {
  auto a = join("a");
  auto b = join("b");
  send(*a, "a");
  auto a2 = join("a");
  h.leave(a->m);
  h.leave(a2->m);
  EXPECT_EQ(b->out->count(), 0u);
}

// --- left ------------------------------------------------------------------------------------

TEST_F(Hub, LeftGoesToPartnersWhenTheLastConnectionCloses) {
  auto a = join("a");
  auto a2 = join("a");
  auto b = join("b");
  auto b2 = join("b");
  auto c = join("c");
  send(*a, "b");
  b->out->clear();
  b2->out->clear();
  a2->out->clear();

  h.leave(a->m);  // a2 is still online
  EXPECT_EQ(b->out->count(), 0u);
  EXPECT_EQ(b2->out->count(), 0u);

  h.leave(a2->m);
  EXPECT_EQ(b->out->take_json(), left("a"));
  EXPECT_EQ(b2->out->take_json(), left("a"));
  EXPECT_EQ(c->out->count(), 0u);  // never a partner
  EXPECT_EQ(a->out->count(), 0u);
  EXPECT_EQ(a2->out->count(), 0u);
}

TEST_F(Hub, ReceivingAMessageMakesAPartnerToo) {
  auto a = join("a");
  auto b = join("b");
  send(*b, "a");
  a->out->clear();
  h.leave(a->m);
  EXPECT_EQ(b->out->take_json(), left("a"));
}

TEST_F(Hub, BothSidesOfAPartnershipLearnOfTheOthersLeaving) {
  auto a = join("a");
  auto b = join("b");
  send(*a, "b");
  b->out->clear();
  h.leave(b->m);
  EXPECT_EQ(a->out->take_json(), left("b"));
}

TEST_F(Hub, LeftIsSentOnceAndEndsThePartnership) {
  auto a = join("a");
  auto b = join("b");
  send(*a, "b");
  send(*b, "a");
  send(*a, "b");
  a->out->clear();
  b->out->clear();
  h.leave(a->m);
  EXPECT_EQ(b->out->take_json(), left("a"));  // once, however many messages

  // a comes back: no partnership until a new message.
  auto a_again = join("a");
  h.leave(a_again->m);
  EXPECT_EQ(b->out->count(), 0u);
  auto a_third = join("a");
  h.leave(b->m);
  EXPECT_EQ(a_third->out->count(), 0u);
}

TEST_F(Hub, LeftReachesEveryPartner) {
  auto a = join("a");
  auto b = join("b");
  auto c = join("c");
  auto d = join("d");
  send(*a, "b");
  send(*c, "a");
  for (auto* x : {a.get(), b.get(), c.get(), d.get()})
    x->out->clear();
  h.leave(a->m);
  EXPECT_EQ(b->out->take_json(), left("a"));
  EXPECT_EQ(c->out->take_json(), left("a"));
  EXPECT_EQ(d->out->count(), 0u);
  // b and c were partners of a only.
  h.leave(b->m);
  EXPECT_EQ(c->out->count(), 0u);
}

TEST_F(Hub, SameLeftFrameIsSharedByAllPartners) {
  auto a = join("a");
  auto b = join("b");
  auto c = join("c");
  send(*a, "b");
  send(*a, "c");
  b->out->clear();
  c->out->clear();
  h.leave(a->m);
  ASSERT_EQ(b->out->count(), 1u);
  ASSERT_EQ(c->out->count(), 1u);
  EXPECT_EQ(b->out->frames()[0], c->out->frames()[0]);
}

TEST_F(Hub, PartnershipNeedsTheSenderOnline) {
  auto b = join("b");
  connection ghost("ghost");  // never joined
  auto frame = protocol::chat_message_frame("ghost", "b", "boo", "m", 1);
  EXPECT_EQ(h.route(ghost.m, "b", frame), route_result::delivered);
  b->out->clear();
  auto ghost2 = join("ghost");
  h.leave(ghost2->m);
  EXPECT_EQ(b->out->count(), 0u);
}

TEST_F(Hub, NotifyReachesEveryConnectionAndMakesNoPartner) {
  auto a = join("a");
  auto b = join("b");
  auto b2 = join("b");
  auto frame = protocol::typing_frame("a");
  h.notify("b", frame);
  h.notify("nobody", frame);
  ASSERT_EQ(b->out->count(), 1u);
  ASSERT_EQ(b2->out->count(), 1u);
  EXPECT_EQ(b->out->frames()[0], frame);
  EXPECT_EQ(a->out->count(), 0u);  // no copy for the sender's connections
  b->out->clear();
  b2->out->clear();
  h.leave(a->m);
  EXPECT_EQ(b->out->count(), 0u);
}

// --- presence --------------------------------------------------------------------------------

TEST_F(Hub, WatchSendsPresenceRightAwayForEachId) {
  auto x = join("x");
  auto w = join("w");
  std::vector<std::string_view> ids = {"x", "y"};
  h.watch(w->m, ids);
  json_list expected = presence("x", true);
  expected.push_back(presence("y", false)[0]);
  EXPECT_EQ(w->out->take_json(), expected);
  EXPECT_EQ(x->out->count(), 0u);
}

TEST_F(Hub, PresenceFollowsTheFirstAndLastConnection) {
  auto w = join("w");
  std::vector<std::string_view> ids = {"x"};
  h.watch(w->m, ids);
  EXPECT_EQ(w->out->take_json(), presence("x", false));

  auto x = join("x");
  EXPECT_EQ(w->out->take_json(), presence("x", true));
  auto x2 = join("x");
  h.leave(x->m);
  EXPECT_EQ(w->out->count(), 0u);  // still online on x2
  h.leave(x2->m);
  EXPECT_EQ(w->out->take_json(), presence("x", false));
  auto x3 = join("x");
  EXPECT_EQ(w->out->take_json(), presence("x", true));
}

TEST_F(Hub, EveryWatcherIsTold) {
  auto w1 = join("w1");
  auto w2 = join("w2");
  auto w2b = join("w2");
  std::vector<std::string_view> ids = {"x"};
  h.watch(w1->m, ids);
  h.watch(w2->m, ids);
  w1->out->clear();
  w2->out->clear();
  auto x = join("x");
  EXPECT_EQ(w1->out->take_json(), presence("x", true));
  EXPECT_EQ(w2->out->take_json(), presence("x", true));
  EXPECT_EQ(w2b->out->count(), 0u);  // watching is per connection
}

TEST_F(Hub, WatchingTwiceRegistersOnce) {
  auto w = join("w");
  std::vector<std::string_view> ids = {"x"};
  h.watch(w->m, ids);
  h.watch(w->m, ids);
  EXPECT_EQ(w->out->take_json().size(), 2u);  // the state now, for each request
  EXPECT_EQ(w->m.watched(), std::vector<std::string>{"x"});
  auto x = join("x");
  EXPECT_EQ(w->out->take_json(), presence("x", true));
}

TEST_F(Hub, LeavingStopsWatching) {
  auto w = join("w");
  auto other = join("other");
  std::vector<std::string_view> ids = {"x"};
  h.watch(w->m, ids);
  h.watch(other->m, ids);
  w->out->clear();
  other->out->clear();
  h.leave(w->m);
  auto x = join("x");
  EXPECT_EQ(w->out->count(), 0u);
  EXPECT_EQ(other->out->take_json(), presence("x", true));
}

TEST_F(Hub, WatchingOnesOwnIdAndLeaving) {
  auto a = join("a");
  auto a2 = join("a");
  std::vector<std::string_view> ids = {"a"};
  h.watch(a2->m, ids);
  EXPECT_EQ(a2->out->take_json(), presence("a", true));
  h.leave(a->m);
  EXPECT_EQ(a2->out->count(), 0u);  // a is still online on a2
  h.leave(a2->m);
  EXPECT_EQ(a2->out->count(), 0u);  // a2 stopped watching as it left
}

TEST_F(Hub, PartnerThatAlsoWatchesGetsLeftAndPresence) {
  auto a = join("a");
  auto b = join("b");
  std::vector<std::string_view> ids = {"a"};
  h.watch(b->m, ids);
  send(*a, "b");
  b->out->clear();
  h.leave(a->m);
  json_list expected = left("a");
  expected.push_back(presence("a", false)[0]);
  EXPECT_EQ(b->out->take_json(), expected);
}

// --- who -------------------------------------------------------------------------------------

TEST_F(Hub, WhoCountsIdsNotConnections) {
  auto a = join("a");
  auto a2 = join("a");
  auto b = join("b");
  hub::online_list list = h.who(1000);
  EXPECT_EQ(list.total, 2u);
  std::sort(list.ids.begin(), list.ids.end());
  EXPECT_EQ(list.ids, (std::vector<std::string>{"a", "b"}));
}

TEST_F(Hub, WhoListsAtMostMaxIdsAndCountsAll) {
  std::vector<std::unique_ptr<connection>> all;
  for (int i = 0; i < 25; ++i)
    all.push_back(join("id" + std::to_string(i)));
  hub::online_list list = h.who(10);
  EXPECT_EQ(list.total, 25u);
  ASSERT_EQ(list.ids.size(), 10u);
  std::set<std::string> distinct(list.ids.begin(), list.ids.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (const auto& id : list.ids)
    EXPECT_EQ(id.rfind("id", 0), 0u) << id;

  list = h.who(0);
  EXPECT_TRUE(list.ids.empty());
  EXPECT_EQ(list.total, 25u);

  list = h.who(25);
  EXPECT_EQ(list.ids.size(), 25u);
  for (auto& c : all)
    h.leave(c->m);
  list = h.who(10);
  EXPECT_TRUE(list.ids.empty());
  EXPECT_EQ(list.total, 0u);
}

// --- message ids -----------------------------------------------------------------------------

TEST_F(Hub, MessageIdsAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string mid(h.next_message_id().view());
    EXPECT_FALSE(mid.empty());
    EXPECT_TRUE(seen.insert(mid).second) << mid;
  }
}

// --- threads ---------------------------------------------------------------------------------

// Many senders at once: every message reaches the recipient exactly once. (Run under
// PARLEY_SANITIZE=thread to check the locking.)
TEST_F(Hub, ConcurrentSendersJoinersAndLeavers) {
  auto b = join("b");
  constexpr int senders = 4, messages = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      connection me("s" + std::to_string(t));
      h.join(me.m);
      for (int i = 0; i < messages; ++i) {
        h.route(me.m, "b", protocol::chat_message_frame(me.m.id, "b", "x", h.next_message_id(), i));
        connection passer("p" + std::to_string(t));
        h.join(passer.m);
        h.who(5);
        h.leave(passer.m);
      }
      h.leave(me.m);
    });
  }
  for (auto& t : threads)
    t.join();
  json_list got = b->out->take_json();
  std::size_t msgs =
      std::count_if(got.begin(), got.end(), [](const auto& o) { return o.at("type") == "msg"; });
  std::size_t lefts =
      std::count_if(got.begin(), got.end(), [](const auto& o) { return o.at("type") == "left"; });
  EXPECT_EQ(msgs, std::size_t{senders * messages});
  EXPECT_EQ(lefts, std::size_t{senders});
  EXPECT_EQ(h.connection_count(), 1u);
}

}  // namespace
}  // namespace parley::core

namespace parley::core {
namespace {

class HubContacts : public testing::Test {
 protected:
  std::unique_ptr<connection> join(const std::string& id) {
    auto c = std::make_unique<connection>(id);
    h.join(c->m);
    return c;
  }
  static std::set<std::string> ids(const router::online_list& list) {
    return {list.ids.begin(), list.ids.end()};
  }
  hub h;
};

TEST_F(HubContacts, ListsPartnersAndOnlineWatchedIdsOnce) {
  auto me = join("me"), partner = join("partner"), watched = join("watched"), other = join("x");
  EXPECT_EQ(h.who_contacts(me->m, 10).total, 0u);
  h.route(me->m, "partner", protocol::chat_message_frame("me", "partner", "hi", "m1", 1));
  std::string_view watch[] = {"watched", "partner", "gone"};
  h.watch(me->m, watch);
  auto list = h.who_contacts(me->m, 10);
  EXPECT_EQ(ids(list), (std::set<std::string>{"partner", "watched"}));
  EXPECT_EQ(list.total, 2u);
  EXPECT_EQ(ids(h.who_contacts(partner->m, 10)), std::set<std::string>{"me"});
  EXPECT_EQ(h.who_contacts(other->m, 10).total, 0u);
  list = h.who_contacts(me->m, 1);
  EXPECT_EQ(list.ids.size(), 1u);
  EXPECT_EQ(list.total, 2u);
  h.leave(partner->m);
  EXPECT_EQ(ids(h.who_contacts(me->m, 10)), std::set<std::string>{"watched"});
}

TEST_F(HubContacts, ConnectionsOfAnIdAreItsSinks) {
  auto a1 = join("a"), a2 = join("a"), b = join("b");
  auto sinks = h.connections_of("a");
  ASSERT_EQ(sinks.size(), 2u);
  EXPECT_TRUE(h.connections_of("nobody").empty());
  for (const auto& s : sinks)
    s->request_close(protocol::close_code::kicked, "kicked");
  EXPECT_EQ(a1->out->close_requested(), protocol::close_code::kicked);
  EXPECT_EQ(a2->out->close_requested(), protocol::close_code::kicked);
  EXPECT_FALSE(b->out->close_requested());
}

}  // namespace
}  // namespace parley::core
