// The admin API (--admin-token): an id's connections, kick (close 4003, partners get `left`),
// ban (kick, then upgrades refused 403 "banned" until it ends), the stats the admin page samples;
// each action logged. Off (404) without --admin-token.
#include "chat_test.hpp"

#include <regex>

namespace parley::it {
namespace {

const std::string token = "adm1n-t0ken";

std::string request(const std::string& method, const std::string& target,
                    const std::string& bearer = token) {
  std::string auth = bearer.empty() ? "" : "Authorization: Bearer " + bearer + "\r\n";
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
         "Content-Length: 0\r\n\r\n";
}

http_response call(std::uint16_t port, const std::string& method, const std::string& target,
                   const std::string& bearer = token) {
  raw_client r(port);
  return r.request(request(method, target, bearer));
}

json::object body_json(const http_response& r) {
  return json::parse(r.body).as_object();
}

class admin_api : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (!peer_mode()) start_server({"--admin-token", token});
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
};

TEST_F(admin_api, needs_the_bearer_token) {
  for (const char* target : {"/admin/api/stats", "/admin/api/connections?id=x"}) {
    auto none = call(port(), "GET", target, "");
    EXPECT_EQ(none.status, 401) << target;
    EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"parley\"");
    EXPECT_EQ(call(port(), "GET", target, "wrong").status, 401) << target;
  }
  EXPECT_EQ(call(port(), "POST", "/admin/api/kick?id=x", "wrong").status, 401);
  EXPECT_EQ(call(port(), "GET", "/admin/api/stats").status, 200);
  EXPECT_EQ(call(port(), "GET", "/admin/api/kick?id=x").status, 405) << "a kick is a POST";
  EXPECT_EQ(call(port(), "POST", "/admin/api/kick?id=").status, 400);
  EXPECT_EQ(call(port(), "POST", "/admin/api/ban?id=x&seconds=0").status, 400);
  EXPECT_EQ(call(port(), "POST", "/admin/api/ban?id=x&seconds=abc").status, 400);
  EXPECT_EQ(call(port(), "GET", "/admin/api/nope").status, 404);
}

TEST_F(admin_api, connections_lists_peer_since_and_message_counts) {
  const std::string a = unique_id("conn"), b = unique_id("conn");
  auto a1 = connect(a), a2 = connect(a), cb = connect(b);
  send_msg(*a1, b, "hi", "c1");
  cb->read_json();
  a2->read_json();  // the sender's other connection gets a copy
  auto r = call(port(), "GET", "/admin/api/connections?id=" + a);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto j = body_json(r);
  EXPECT_EQ(str(j, "id"), a);
  auto& list = j.at("connections").as_array();
  ASSERT_EQ(list.size(), 2u) << r.body;
  std::int64_t in = 0, out = 0;
  for (auto& v : list) {
    auto& c = v.as_object();
    EXPECT_TRUE(std::string(c.at("peer").as_string()).starts_with("127.0.0.1:")) << r.body;
    EXPECT_GT(c.at("connected_at").to_number<std::int64_t>(), 1700000000000) << r.body;
    in += c.at("messages_in").to_number<std::int64_t>();
    out += c.at("messages_out").to_number<std::int64_t>();
  }
  EXPECT_EQ(in, 1) << "a1 sent one message: " << r.body;
  EXPECT_GE(out, 4) << "two welcomes, an ack, a copy: " << r.body;
  auto none = body_json(call(port(), "GET", "/admin/api/connections?id=" + unique_id("nobody")));
  EXPECT_TRUE(none.at("connections").as_array().empty());
}

TEST_F(admin_api, kick_closes_every_connection_with_4003_and_partners_get_left) {
  const std::string a = unique_id("kick"), b = unique_id("kick");
  auto a1 = connect(a), a2 = connect(a), cb = connect(b);
  send_msg(*cb, a, "hi", "c1");
  a1->read_json();
  a2->read_json();
  auto r = call(port(), "POST", "/admin/api/kick?id=" + a);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("closed").to_number<int>(), 2);
  EXPECT_EQ(a1->wait_closed(ms{2000}), std::optional<std::uint16_t>(4003));
  EXPECT_EQ(a2->wait_closed(ms{2000}), std::optional<std::uint16_t>(4003));
  auto left = cb->read_json(ms{2000});
  EXPECT_EQ(type_of(left), "left") << to_string(left);
  EXPECT_EQ(str(left, "id"), a);
  EXPECT_TRUE(server().wait_for_log("kick id=" + a + " (2 connections closed)", ms{2000}))
      << server().log();
  // A kick is not a ban: the id may come back at once.
  auto again = connect(a);
  expect_usable(*again);
}

TEST_F(admin_api, ban_kicks_and_refuses_upgrades_with_403_until_it_ends) {
  const std::string a = unique_id("ban");
  auto ca = connect(a);
  auto t0 = steady::now();
  auto r = call(port(), "POST", "/admin/api/ban?id=" + a + "&seconds=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r).at("closed").to_number<int>(), 1);
  EXPECT_EQ(ca->wait_closed(ms{2000}), std::optional<std::uint16_t>(4003));
  raw_client refused(port());
  auto up = refused.upgrade("/ws/" + a);
  EXPECT_EQ(up.status, 403);
  EXPECT_EQ(up.body, "banned\n");
  EXPECT_TRUE(server().wait_for_log("ban id=" + a + " for 2 s", ms{2000})) << server().log();
  // Another id is not affected.
  auto other = connect(unique_id("ban"));
  expect_usable(*other);
  // Once the ban ends the id connects again (bounded wait).
  std::this_thread::sleep_until(t0 + ms{2100});
  bool back = false;
  for (int i = 0; i < 20 && !back; ++i) {
    raw_client c(port());
    back = c.upgrade("/ws/" + a).status == 101;
    if (!back) std::this_thread::sleep_for(ms{100});
  }
  EXPECT_TRUE(back) << "the ban ended after 2 s";
}

TEST_F(admin_api, stats_reports_the_counters_the_page_draws) {
  auto c = connect(unique_id("stats"));
  auto j = body_json(call(port(), "GET", "/admin/api/stats"));
  for (const char* key :
       {"time_ms", "connections", "ids_online", "messages_in", "messages_out",
        "slow_consumer_closes", "rate_limited", "address_refusals", "kicked", "bans"}) {
    EXPECT_TRUE(j.contains(key) && j.at(key).is_number()) << key << ": " << to_string(j);
  }
  EXPECT_GE(j.at("connections").to_number<int>(), 1);
  EXPECT_GE(j.at("ids_online").to_number<int>(), 1);
}

TEST_F(admin_api, the_closed_code_is_in_metrics) {
  auto r = call(port(), "GET", "/metrics", "");
  EXPECT_NE(r.body.find("parley_closes_total{reason=\"kicked\"}"), std::string::npos);
}

class admin_off : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (!peer_mode()) start_server({});
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
};

TEST_F(admin_off, without_an_admin_token_the_admin_paths_are_404) {
  EXPECT_EQ(call(port(), "GET", "/admin", "").status, 404);
  EXPECT_EQ(call(port(), "GET", "/admin/api/stats", "").status, 404);
  EXPECT_EQ(call(port(), "POST", "/admin/api/kick?id=x", "anything").status, 404);
}

class admin_on_its_port : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (peer_mode()) return;
    start_server({"--admin-token", token, "--admin-listen", "127.0.0.1:0"});
    static const std::regex line(R"(admin port on http://127\.0\.0\.1:([0-9]+))");
    std::smatch m;
    std::string log = server().log();
    if (std::regex_search(log, m, line)) admin_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override {
    PARLEY_SKIP_ON_PEER();
    ASSERT_NE(admin_port_, 0) << server().log();
  }
  static inline std::uint16_t admin_port_ = 0;
};

TEST_F(admin_on_its_port, the_api_is_served_on_the_admin_port_only) {
  EXPECT_EQ(call(admin_port_, "GET", "/admin/api/stats").status, 200);
  EXPECT_EQ(call(port(), "GET", "/admin/api/stats").status, 404);
  const std::string a = unique_id("kick");
  auto ca = connect(a);
  EXPECT_EQ(call(port(), "POST", "/admin/api/kick?id=" + a).status, 404);
  EXPECT_EQ(call(admin_port_, "POST", "/admin/api/kick?id=" + a).status, 200);
  EXPECT_EQ(ca->wait_closed(ms{2000}), std::optional<std::uint16_t>(4003));
}

}  // namespace
}  // namespace parley::it
