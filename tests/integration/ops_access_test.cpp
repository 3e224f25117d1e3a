// Limiting the operator's paths: --metrics-token (a bearer token for /metrics and /healthz) and
// --admin-listen (a second port that alone serves /metrics, /healthz and /admin).
#include "chat_test.hpp"

#include <regex>

namespace parley::it {
namespace {

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

http_response fetch(std::uint16_t port, const std::string& raw) {
  raw_client r(port);
  return r.request(raw);
}

class metrics_token : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (!peer_mode()) start_server({"--metrics-token", "s3cret-scrape"});
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
};

TEST_F(metrics_token, metrics_and_healthz_need_the_bearer_token) {
  for (const char* path : {"/metrics", "/healthz"}) {
    auto none = fetch(port(), get(path));
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_EQ(none.header("www-authenticate"), "Bearer realm=\"parley\"") << path;
    EXPECT_EQ(fetch(port(), get(path, "Authorization: Bearer wrong\r\n")).status, 401) << path;
    EXPECT_EQ(fetch(port(), get(path, "Authorization: Bearer s3cret-scrap\r\n")).status, 401)
        << "a prefix of the token is not the token";
    EXPECT_EQ(fetch(port(), get(path, "Authorization: Basic czNjcmV0LXNjcmFwZQ==\r\n")).status,
              401);
    auto ok = fetch(port(), get(path, "Authorization: Bearer s3cret-scrape\r\n"));
    EXPECT_EQ(ok.status, 200) << path << ": " << ok.body;
    EXPECT_EQ(fetch(port(), get(path, "authorization: bearer s3cret-scrape\r\n")).status, 200)
        << "the scheme is case-insensitive";
  }
  // The chat itself is untouched.
  EXPECT_EQ(fetch(port(), get("/")).status, 200);
  auto c = connect(unique_id("m"));
  expect_usable(*c);
}

TEST_F(metrics_token, a_refused_scrape_keeps_the_connection) {
  raw_client r(port());
  EXPECT_EQ(r.request(get("/metrics")).status, 401);
  EXPECT_EQ(r.request(get("/metrics", "Authorization: Bearer s3cret-scrape\r\n")).status, 200);
}

class admin_listen : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (peer_mode()) return;
    start_server({"--admin-listen", "127.0.0.1:0"});
    static const std::regex line(R"(admin port on http://127\.0\.0\.1:([0-9]+))");
    std::smatch m;
    std::string log = server().log();
    if (std::regex_search(log, m, line)) admin_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override {
    PARLEY_SKIP_ON_PEER();
    ASSERT_NE(admin_port_, 0) << "no 'admin port on' line in the log:\n" << server().log();
  }
  static inline std::uint16_t admin_port_ = 0;
};

TEST_F(admin_listen, the_admin_port_alone_serves_metrics_and_healthz) {
  EXPECT_EQ(fetch(admin_port_, get("/metrics")).status, 200);
  EXPECT_EQ(fetch(admin_port_, get("/healthz")).status, 200);
  EXPECT_EQ(fetch(port(), get("/metrics")).status, 404);
  EXPECT_EQ(fetch(port(), get("/healthz")).status, 404);
  EXPECT_EQ(fetch(port(), get("/admin")).status, 404);
  // The admin port serves nothing else: no pages, no WebSockets.
  EXPECT_EQ(fetch(admin_port_, get("/")).status, 404);
  EXPECT_EQ(fetch(admin_port_, get("/static/app.js")).status, 404);
  raw_client ws(admin_port_);
  EXPECT_EQ(ws.upgrade("/ws/" + unique_id("a")).status, 404);
  // The main port still serves the chat.
  EXPECT_EQ(fetch(port(), get("/")).status, 200);
  auto c = connect(unique_id("m"));
  expect_usable(*c);
}

TEST(admin_listen_flag, a_bad_address_is_refused_naming_the_flag) {
  PARLEY_SKIP_ON_PEER();
  auto r = run_command({parley_binary(), "--admin-listen", "localhost:9100"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE((r.out + r.err).find("--admin-listen"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace parley::it
