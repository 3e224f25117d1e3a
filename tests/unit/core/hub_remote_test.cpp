// The hub as one node of a cluster (hub.hpp, remote_link.hpp): what it tells the link (its own
// presence changes, frames for ids held elsewhere, to the nodes that hold them and no others),
// and what it does with the other nodes' news (remote_presence, remote_sync, remote_node_gone,
// remote_deliver). The link is a fake that records the calls: this tests the hub, not Redis
// (tests/cluster does that with real nodes).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parley/core/hub.hpp"
#include "parley/core/remote_link.hpp"
#include "parley/protocol/server_frames.hpp"
#include "support/frames.hpp"

namespace parley::core {
namespace {

using test::json_object;
using test::recording_sink;
using json_list = std::vector<boost::json::object>;

constexpr node_set node_a = 1u << 0;
constexpr node_set node_b = 1u << 1;
constexpr node_set node_c = 1u << 5;

// Records every call the hub makes; reachable() as the test sets it.
class fake_link final : public remote_link {
 public:
  struct forwarded {
    node_set nodes;
    remote_delivery how;
    std::string from, to;
    protocol::shared_frame frame;
  };
  struct presence {
    std::string id;
    bool online;
    bool operator==(const presence&) const = default;
  };

  bool reachable() const override { return up; }
  void forward(node_set nodes, remote_delivery how, std::string_view from, std::string_view to,
               const protocol::shared_frame& frame) override {
    forwards.push_back({nodes, how, std::string(from), std::string(to), frame});
  }
  void local_presence(std::string_view id, bool online) override {
    presences.push_back({std::string(id), online});
  }

  bool up = true;
  std::vector<forwarded> forwards;
  std::vector<presence> presences;
};

struct connection {
  explicit connection(std::string id)
      : out(std::make_shared<recording_sink>()), m{std::move(id), out.get()} {}
  std::shared_ptr<recording_sink> out;
  member m;
};

class HubRemote : public testing::Test {
 protected:
  HubRemote() { h.attach(link, "beef"); }

  std::unique_ptr<connection> join(const std::string& id) {
    auto c = std::make_unique<connection>(id);
    h.join(c->m);
    return c;
  }
  protocol::shared_frame message(std::string_view from, std::string_view to) {
    return protocol::chat_message_frame(from, to, "hi", h.next_message_id(), 1);
  }
  std::vector<std::string> who() {
    auto list = h.who(100);
    std::vector<std::string> ids(list.ids.begin(), list.ids.end());
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(list.total, ids.size());
    return ids;
  }
  static json_list left(std::string_view id) {
    return {json_object(R"({"type":"left","id":")" + std::string(id) + R"("})")};
  }
  static json_list presence(std::string_view id, bool online) {
    return {json_object(R"({"type":"presence","id":")" + std::string(id) + R"(","online":)" +
                        (online ? "true" : "false") + "}")};
  }

  fake_link link;
  hub h;
};

// --- what the hub tells the link -----------------------------------------------------------

TEST_F(HubRemote, ReportsAnIdsFirstLocalConnectionAndItsLastOnly) {
  auto a = join("a");
  auto a2 = join("a");
  h.leave(a->m);
  EXPECT_EQ(link.presences, (std::vector<fake_link::presence>{{"a", true}}));
  h.leave(a2->m);
  EXPECT_EQ(link.presences, (std::vector<fake_link::presence>{{"a", true}, {"a", false}}));
}

TEST_F(HubRemote, MessageIdsCarryTheNodeTag) {
  std::string id(h.next_message_id().view());
  EXPECT_NE(id.find("-beef-"), std::string::npos) << id;
}

TEST_F(HubRemote, RouteToAnIdHeldElsewhereGoesToItsNodesOnlyInOneCall) {
  auto s = join("s");
  h.remote_presence(node_a, "x", true);
  h.remote_presence(node_c, "x", true);
  h.remote_presence(node_b, "y", true);
  auto frame = message("s", "x");
  EXPECT_EQ(h.route(s->m, "x", frame), route_result::delivered);
  ASSERT_EQ(link.forwards.size(), 1u);
  const auto& f = link.forwards[0];
  EXPECT_EQ(f.nodes, node_a | node_c);  // not node_b
  EXPECT_EQ(f.how, remote_delivery::message);
  EXPECT_EQ(f.from, "s");
  EXPECT_EQ(f.to, "x");
  EXPECT_EQ(f.frame, frame);  // the same object: serialized once
  EXPECT_EQ(s->out->count(), 0u);
}

TEST_F(HubRemote, RouteAddsTheNodesOfTheSendersOtherConnections) {
  auto s = join("s");
  auto r = join("r");
  h.remote_presence(node_b, "s", true);  // s has a connection on node b too
  auto frame = message("s", "r");
  EXPECT_EQ(h.route(s->m, "r", frame), route_result::delivered);
  EXPECT_EQ(r->out->count(), 1u);
  ASSERT_EQ(link.forwards.size(), 1u);
  EXPECT_EQ(link.forwards[0].nodes, node_b);  // the copy for the sender's other tab there
  EXPECT_EQ(link.forwards[0].how, remote_delivery::message);

  h.remote_presence(node_a, "r", true);
  h.route(s->m, "r", message("s", "r"));
  ASSERT_EQ(link.forwards.size(), 2u);
  EXPECT_EQ(link.forwards[1].nodes, node_a | node_b);  // one call for both reasons
}

TEST_F(HubRemote, RouteBetweenLocalIdsForwardsNothing) {
  auto s = join("s");
  auto r = join("r");
  h.remote_presence(node_a, "other", true);
  EXPECT_EQ(h.route(s->m, "r", message("s", "r")), route_result::delivered);
  EXPECT_TRUE(link.forwards.empty());
}

TEST_F(HubRemote, AnIdHeldOnlyElsewhereIsUnreachableWhileTheLinkIsDown) {
  auto s = join("s");
  auto r = join("r");
  h.remote_presence(node_a, "x", true);
  h.remote_presence(node_a, "r", true);
  link.up = false;
  EXPECT_EQ(h.route(s->m, "x", message("s", "x")), route_result::unreachable);
  EXPECT_FALSE(h.online("x"));
  // An id with a connection here is still delivered to (its other node's copy is the link's).
  EXPECT_EQ(h.route(s->m, "r", message("s", "r")), route_result::delivered);
  EXPECT_EQ(r->out->count(), 1u);
  EXPECT_EQ(h.route(s->m, "nobody", message("s", "nobody")), route_result::offline);
  link.up = true;
  EXPECT_TRUE(h.online("x"));
}

TEST_F(HubRemote, RouteStoredToAnUnreachableIdCopiesToTheSendersOtherNodesOnly) {
  auto s = join("s");
  h.remote_presence(node_b, "s", true);
  h.remote_presence(node_a, "x", true);
  link.up = false;
  EXPECT_FALSE(h.route_stored(s->m, "x", message("s", "x")));
  ASSERT_EQ(link.forwards.size(), 1u);
  EXPECT_EQ(link.forwards[0].nodes, node_b);
  EXPECT_EQ(link.forwards[0].how, remote_delivery::notify);  // a copy, no partnership
  EXPECT_EQ(link.forwards[0].to, "s");
}

TEST_F(HubRemote, NotifyAndNotifyOthersReachTheIdsOtherNodes) {
  auto x = join("x");
  h.remote_presence(node_a, "x", true);
  auto typing = protocol::typing_frame("s");
  h.notify("x", typing);
  EXPECT_EQ(x->out->count(), 1u);
  ASSERT_EQ(link.forwards.size(), 1u);
  EXPECT_EQ(link.forwards[0].nodes, node_a);
  EXPECT_EQ(link.forwards[0].how, remote_delivery::notify);
  EXPECT_EQ(link.forwards[0].to, "x");

  auto x2 = join("x");
  h.notify_others(x->m, typing);
  EXPECT_EQ(x->out->count(), 1u);  // not to itself
  EXPECT_EQ(x2->out->count(), 1u);
  ASSERT_EQ(link.forwards.size(), 2u);
  EXPECT_EQ(link.forwards[1].nodes, node_a);
  EXPECT_EQ(link.forwards[1].from, "x");
  EXPECT_EQ(link.forwards[1].to, "x");

  h.notify("nobody", typing);
  EXPECT_EQ(link.forwards.size(), 2u);
}

// --- what the other nodes' news does here --------------------------------------------------

TEST_F(HubRemote, RemotePresenceMakesAnIdOnlineUntilNoNodeHoldsIt) {
  auto w = join("w");
  std::string_view watched[] = {"x"};
  h.watch(w->m, watched);
  EXPECT_EQ(w->out->take_json(), presence("x", false));

  h.remote_presence(node_a, "x", true);
  EXPECT_EQ(w->out->take_json(), presence("x", true));
  h.remote_presence(node_b, "x", true);  // a second node: no change
  EXPECT_EQ(w->out->count(), 0u);
  EXPECT_EQ(who(), (std::vector<std::string>{"w", "x"}));
  EXPECT_TRUE(h.online("x"));

  h.remote_presence(node_a, "x", false);  // still on node b
  EXPECT_EQ(w->out->count(), 0u);
  EXPECT_TRUE(h.online("x"));
  h.remote_presence(node_b, "x", false);
  EXPECT_EQ(w->out->take_json(), presence("x", false));
  EXPECT_EQ(who(), (std::vector<std::string>{"w"}));
  EXPECT_FALSE(h.online("x"));
  h.remote_presence(node_b, "x", false);  // again: nothing
  EXPECT_EQ(w->out->count(), 0u);
}

TEST_F(HubRemote, AnIdWithConnectionsHereAndElsewhereLeavesOnlyWhenAllAreGone) {
  auto a = join("a");
  auto b = join("b");
  h.remote_presence(node_a, "a", true);
  h.route(b->m, "a", message("b", "a"));  // partners
  a->out->clear();
  h.leave(a->m);
  EXPECT_EQ(b->out->count(), 0u);  // a is still on node a
  EXPECT_EQ(who(), (std::vector<std::string>{"a", "b"}));
  h.remote_presence(node_a, "a", false);
  EXPECT_EQ(b->out->take_json(), left("a"));
}

TEST_F(HubRemote, RemoteDeliverOfAMessageReachesBothSidesHereAndMakesPartners) {
  auto r = join("r");
  auto s2 = join("s");  // the sender's other connection, on this node
  auto c = join("c");
  h.remote_presence(node_a, "s", true);
  auto frame = message("s", "r");
  h.remote_deliver(remote_delivery::message, "s", "r", frame);
  ASSERT_EQ(r->out->count(), 1u);
  EXPECT_EQ(r->out->frames()[0], frame);
  ASSERT_EQ(s2->out->count(), 1u);
  EXPECT_EQ(c->out->count(), 0u);
  EXPECT_TRUE(link.forwards.empty());  // never forwarded on again
  r->out->clear();

  h.leave(s2->m);
  EXPECT_EQ(r->out->count(), 0u);  // s is still on node a
  h.remote_presence(node_a, "s", false);
  EXPECT_EQ(r->out->take_json(), left("s"));
  EXPECT_EQ(c->out->count(), 0u);
}

TEST_F(HubRemote, RemoteDeliverOfANotificationMakesNoPartners) {
  auto r = join("r");
  h.remote_presence(node_a, "s", true);
  h.remote_deliver(remote_delivery::notify, "s", "r", protocol::typing_frame("s"));
  EXPECT_EQ(r->out->count(), 1u);
  r->out->clear();
  h.remote_presence(node_a, "s", false);
  EXPECT_EQ(r->out->count(), 0u);
}

TEST_F(HubRemote, RemoteDeliverToAnIdNoLongerHereDeliversNothing) {
  auto c = join("c");
  h.remote_deliver(remote_delivery::message, "s", "gone", message("s", "gone"));
  h.remote_deliver(remote_delivery::notify, "gone", "gone", protocol::typing_frame("s"));
  EXPECT_EQ(c->out->count(), 0u);
  EXPECT_EQ(who(), (std::vector<std::string>{"c"}));
}

TEST_F(HubRemote, RemoteSyncReplacesWhatANodeHolds) {
  auto w = join("w");
  std::string_view watched[] = {"x", "y", "z"};
  h.watch(w->m, watched);
  w->out->clear();
  h.remote_presence(node_a, "x", true);
  h.remote_presence(node_a, "y", true);
  h.remote_presence(node_b, "x", true);
  h.route(w->m, "y", message("w", "y"));  // partners with y
  w->out->clear();

  std::string_view held[] = {"x", "z"};  // node a: y gone, z new, x still
  h.remote_sync(node_a, held);
  json_list expected = {left("y")[0], presence("y", false)[0], presence("z", true)[0]};
  EXPECT_EQ(w->out->take_json(), expected);
  EXPECT_EQ(who(), (std::vector<std::string>{"w", "x", "z"}));

  h.remote_sync(node_a, {});
  EXPECT_EQ(w->out->take_json(), presence("z", false));  // x is still on node b
  EXPECT_EQ(who(), (std::vector<std::string>{"w", "x"}));
}

TEST_F(HubRemote, ANodeGoneTakesOnlyTheIdsNoOtherNodeHolds) {
  auto p = join("p");
  auto local = join("l");
  h.remote_presence(node_a, "x", true);  // on node a only
  h.remote_presence(node_a, "y", true);  // on nodes a and b
  h.remote_presence(node_b, "y", true);
  h.remote_presence(node_a, "l", true);  // also here
  h.route(p->m, "x", message("p", "x"));
  h.route(p->m, "y", message("p", "y"));
  h.route(p->m, "l", message("p", "l"));
  p->out->clear();
  local->out->clear();

  h.remote_node_gone(node_a);
  EXPECT_EQ(p->out->take_json(), left("x"));
  EXPECT_EQ(who(), (std::vector<std::string>{"l", "p", "y"}));
  h.route(p->m, "y", message("p", "y"));
  EXPECT_EQ(link.forwards.back().nodes, node_b);  // node a is no longer among y's
  h.remote_node_gone(node_a);                     // again: nothing
  EXPECT_EQ(p->out->count(), 0u);
}

TEST_F(HubRemote, WithLocalIdsListsTheIdsWithAConnectionHere) {
  auto a = join("a");
  auto b = join("b");
  h.remote_presence(node_a, "b", true);
  h.remote_presence(node_a, "x", true);
  std::vector<std::string> ids;
  h.with_local_ids(
      [&](std::span<const std::string_view> local) { ids.assign(local.begin(), local.end()); });
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace parley::core
