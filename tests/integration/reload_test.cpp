// SIGHUP: the server reads its flags, environment and config file again and applies what may
// change while it runs (the log level, limits; TLS in tls_test.cpp) without dropping a
// connection; a setting that needs a restart is named in a warning and keeps its running value;
// a bad file changes nothing and the server goes on.
#include <gtest/gtest.h>

#include <signal.h>

#include "chat_test.hpp"
#include "config_files.hpp"

namespace parley::it {
namespace {

class reload : public ::testing::Test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own signal

  // Sends SIGHUP and waits for `outcome` in the log.
  static void sighup(server_process& server, const std::string& outcome) {
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    ASSERT_TRUE(server.wait_for_log(outcome, ms{5000})) << "no '" << outcome << "'\n"
                                                        << server.log();
  }

  // Sends `count` pings at once; the replies' types in order ("pong" or "rate_limited").
  static std::vector<std::string> ping_burst(ws_client& c, int count) {
    for (int i = 0; i < count; ++i)
      c.send_text(R"({"type":"ping","cid":"p)" + std::to_string(i) + "\"}");
    std::vector<std::string> replies;
    for (int i = 0; i < count; ++i) {
      auto reply = c.read_json();
      replies.push_back(type_of(reply) == "error" ? str(reply, "code") : type_of(reply));
    }
    return replies;
  }

  net::io_context ioc_;
  temp_dir dir_;
};

using replies = std::vector<std::string>;

TEST_F(reload, log_level_and_rate_limit_change_without_dropping_connections) {
  auto file =
      write_config(dir_, "parley.toml", "log-level = \"warn\"\nmax-messages-per-second = 1000\n");
  server_process server({"--config", file});
  ws_client before(ioc_, server.port());
  before.connect("before");
  EXPECT_FALSE(contains(server.log(), "connect id=before")) << server.log();

  write_config(dir_, "parley.toml", "log-level = \"info\"\nmax-messages-per-second = 2\n");
  sighup(server, "reload: max-messages-per-second 1000 -> 2, log-level \"warn\" -> \"info\"");

  ws_client after(ioc_, server.port());
  after.connect("after");
  EXPECT_TRUE(server.wait_for_log("connect id=after", ms{2000})) << server.log();
  // The new rate (bursts of 2 s: 4 messages) for a connection opened after the reload...
  EXPECT_EQ(ping_burst(after, 5), (replies{"pong", "pong", "pong", "pong", "rate_limited"}));
  // ...while the one opened before keeps its own, and was not dropped.
  EXPECT_EQ(ping_burst(before, 5), (replies(5, "pong")));
  EXPECT_TRUE(before.close());
  EXPECT_TRUE(server.wait_for_log("disconnect id=before", ms{2000})) << server.log();
  EXPECT_TRUE(server.running());
}

TEST_F(reload, a_bad_file_keeps_the_running_configuration) {
  auto file = write_config(dir_, "parley.toml", "max-messages-per-second = 2\n");
  server_process server({"--config", file});
  ws_client open(ioc_, server.port());
  open.connect("open");

  write_config(dir_, "parley.toml", "max-messages-per-second = 1000\nmax-text-bytes = 12\n");
  sighup(server, "reload failed, the running configuration stays: " + file +
                     ":2: max-text-bytes: 12 is not in [64 - 1073741824]");
  write_config(dir_, "parley.toml", "max-messages-per-second = 1000\nlog-levle = \"debug\"\n");
  sighup(server, file + ":2: unknown key log-levle (did you mean log-level?)");
  write_config(dir_, "parley.toml", "max-messages-per-second = \n");
  sighup(server, file + ":1:");
  EXPECT_FALSE(contains(server.log(), "reload: ")) << server.log();

  EXPECT_TRUE(server.running());
  ws_client fresh(ioc_, server.port());
  fresh.connect("fresh");
  EXPECT_EQ(ping_burst(fresh, 5), (replies{"pong", "pong", "pong", "pong", "rate_limited"}));
  EXPECT_EQ(ping_burst(open, 1), (replies{"pong"}));
}

TEST_F(reload, a_setting_that_needs_a_restart_is_named_and_kept) {
  auto file = write_config(dir_, "parley.toml", "max-text-bytes = 1024\n");
  server_process server({"--config", file});
  write_config(dir_, "parley.toml", "max-text-bytes = 4096\nmax-rate-strikes = 50\n");
  sighup(server,  // the warning comes after the line of what was applied
         "reload: changed but needs a restart, the running values stay: "
         "max-text-bytes (running 1024, configured 4096)");
  EXPECT_TRUE(contains(server.log(), "reload: max-rate-strikes 100 -> 50")) << server.log();
  ws_client c(ioc_, server.port());
  c.connect("c");
  c.send_text(R"({"type":"msg","to":"c","cid":"x","text":")" + std::string(2000, 'x') + "\"}");
  EXPECT_EQ(str(c.read_json(), "code"), "too_large");
}

TEST_F(reload, allowed_origins_and_max_connections_apply_to_the_next_connection) {
  auto file = write_config(dir_, "parley.toml", "max-connections = 1\n");
  server_process server({"--config", file});
  ws_client first(ioc_, server.port());
  first.connect("first");
  auto upgrade = [&](const std::string& id, ws_client::headers headers) {
    ws_client c(ioc_, server.port());
    c.start("/ws/" + id, std::move(headers));
    return c.wait_open();
  };
  EXPECT_FALSE(upgrade("second", {}));  // 503: one connection at most
  EXPECT_FALSE(upgrade("third", {{"Origin", "https://a.example"}}));

  write_config(dir_, "parley.toml",
               "max-connections = 10\nallowed-origins = [\"https://a.example\"]\n");
  sighup(server, "reload: max-connections 1 -> 10, allowed-origins [] -> [\"https://a.example\"]");
  EXPECT_TRUE(upgrade("second", {}));
  EXPECT_TRUE(upgrade("third", {{"Origin", "https://a.example"}}));
  EXPECT_FALSE(upgrade("fourth", {{"Origin", "https://b.example"}}));
}

TEST_F(reload, a_reload_without_changes_says_so) {
  auto file = write_config(dir_, "parley.toml", "max-rate-strikes = 50\n");
  server_process server({"--config", file});
  sighup(server, "reload: no setting changed");
}

TEST_F(reload, trusted_proxies_apply_to_the_next_connection) {
  auto file = write_config(dir_, "parley.toml", "max-rate-strikes = 50\n");
  server_process server({"--config", file});
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  raw_client before(server.port(), 0, "127.0.0.9");
  EXPECT_EQ(before.request(healthz).status, 200);

  write_config(dir_, "parley.toml", "trusted-proxies = [\"127.0.0.9/32\"]\n");
  sighup(server, "reload: max-rate-strikes 50 -> 100, trusted-proxies [] -> [\"127.0.0.9/32\"]");
  raw_client after(server.port(), 0, "127.0.0.9");  // now a proxy: a header is required
  after.send(healthz);
  EXPECT_TRUE(after.wait_eof(ms{3000}));
  EXPECT_TRUE(server.wait_for_log("no PROXY protocol v2 signature", ms{3000})) << server.log();
  EXPECT_EQ(before.request(healthz).status, 200) << "an open connection keeps its peer";
}

}  // namespace
}  // namespace parley::it
