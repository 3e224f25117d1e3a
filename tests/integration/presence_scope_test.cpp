// --presence-scope: what `who` lists. all (every online id), contacts (the asker's chat partners
// and the ids it watches), off (nothing). `watch` answers for named ids in every scope.
#include "chat_test.hpp"

#include <algorithm>
#include <set>

namespace parley::it {
namespace {

// The ids of a `who` answer, after checking its shape; `total` is returned through `total`.
std::set<std::string> who_of(ws_client& c, std::int64_t& total) {
  c.send_json(obj({{"type", "who"}, {"cid", "w"}}));
  auto w = c.read_json();
  EXPECT_EQ(type_of(w), "who") << to_string(w);
  std::set<std::string> ids;
  if (!w.contains("online") || !w.at("online").is_array()) return ids;
  for (auto& v : w.at("online").as_array())
    ids.insert(std::string(v.as_string()));
  total = w.at("total").to_number<std::int64_t>();
  return ids;
}

void expect_presence(ws_client& c, const std::string& id, bool online) {
  auto p = c.read_json();
  EXPECT_EQ(type_of(p), "presence") << to_string(p);
  EXPECT_EQ(str(p, "id"), id) << to_string(p);
  EXPECT_EQ(p.at("online").as_bool(), online) << to_string(p);
}

class presence_scope_all : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({}); }  // the default
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(presence_scope_all, who_lists_strangers_too) {
  const std::string a = unique_id("all"), b = unique_id("all");
  auto ca = connect(a), cb = connect(b);
  std::int64_t total = -1;
  auto ids = who_of(*ca, total);
  EXPECT_TRUE(ids.contains(a));
  EXPECT_TRUE(ids.contains(b)) << "a stranger is listed with the default scope";
  EXPECT_EQ(total, static_cast<std::int64_t>(ids.size()));
}

class presence_scope_contacts : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--presence-scope", "contacts"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(presence_scope_contacts, who_lists_only_partners_and_watched_ids) {
  if (peer_mode()) GTEST_SKIP() << "Parley's --presence-scope";
  const std::string me = unique_id("me"), partner = unique_id("partner"),
                    watched = unique_id("watched"), stranger = unique_id("stranger");
  auto cm = connect(me), cp = connect(partner), cw = connect(watched), cs = connect(stranger);
  std::int64_t total = -1;
  EXPECT_TRUE(who_of(*cm, total).empty()) << "no contacts yet";
  EXPECT_EQ(total, 0);

  send_msg(*cm, partner, "hello", "c1");
  cp->read_json();
  cm->send_json(obj({{"type", "watch"}, {"ids", json::array{json::value(watched)}}}));
  expect_presence(*cm, watched, true);

  auto ids = who_of(*cm, total);
  EXPECT_EQ(ids, (std::set<std::string>{partner, watched}));
  EXPECT_EQ(total, 2);
  // The partner sees the asker (partnership goes both ways); the stranger sees nobody.
  EXPECT_EQ(who_of(*cp, total), (std::set<std::string>{me}));
  EXPECT_EQ(total, 1);
  EXPECT_TRUE(who_of(*cs, total).empty());
  EXPECT_EQ(total, 0);

  // Watching keeps working: the watched id going offline is announced.
  ASSERT_TRUE(cw->close());
  expect_presence(*cm, watched, false);
  ids = who_of(*cm, total);
  EXPECT_EQ(ids, (std::set<std::string>{partner})) << "a watched id is listed only while online";
  EXPECT_EQ(total, 1);
}

class presence_scope_off : public chat_test {
 protected:
  static void SetUpTestSuite() { start_server({"--presence-scope", "off"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(presence_scope_off, who_is_empty_and_watch_still_answers) {
  if (peer_mode()) GTEST_SKIP() << "Parley's --presence-scope";
  const std::string me = unique_id("me"), other = unique_id("other");
  auto cm = connect(me), co = connect(other);
  send_msg(*cm, other, "hello", "c1");
  co->read_json();
  std::int64_t total = -1;
  EXPECT_TRUE(who_of(*cm, total).empty());
  EXPECT_EQ(total, 0);
  cm->send_json(obj({{"type", "watch"}, {"ids", json::array{json::value(other)}}}));
  expect_presence(*cm, other, true);
}

TEST(presence_scope_flag, a_bad_scope_is_refused_naming_the_flag) {
  if (peer_mode()) GTEST_SKIP() << "Parley's flag";
  auto r = run_command({parley_binary(), "--presence-scope", "everyone"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.out + r.err).find("--presence-scope"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace parley::it
