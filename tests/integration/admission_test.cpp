// Who may open a WebSocket: a signed token whose sub is the id (--auth-secret, else 401), a
// browser origin on the allow-list (else 403), and room under --max-connections (else 503).
#include <array>
#include <cstdio>

#include "chat_test.hpp"

namespace parley::it {
namespace {

constexpr const char* secret = "integration-secret";

// A token from the real `parley token` command.
std::string mint(const std::string& sub, const std::string& with_secret = secret) {
  std::string command = std::string(PARLEY_BINARY) + " token --sub " + sub + " --ttl 600" +
                        " --auth-secret " + with_secret;
  std::string token;
  if (FILE* out = ::popen(command.c_str(), "r")) {
    std::array<char, 512> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), out))
      token += buffer.data();
    ::pclose(out);
  }
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  return token;
}

class admission : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flags
  static void SetUpTestSuite() { start_server({"--auth-secret", secret}); }
  static void TearDownTestSuite() { stop_server(); }

  int status_of(const std::string& target, const std::string& headers = "") {
    raw_client r(port());
    return r.upgrade(target, headers).status;
  }
};

TEST_F(admission, a_valid_token_for_the_id_is_upgraded_and_welcomed) {
  const std::string id = unique_id("tok");
  raw_client r(port());
  auto response = r.upgrade("/ws/" + id + "?token=" + mint(id));
  ASSERT_EQ(response.status, 101);
  auto welcome = r.read_frame();
  ASSERT_TRUE(welcome);
  EXPECT_NE(welcome->payload.find("\"welcome\""), std::string::npos) << welcome->payload;
}

TEST_F(admission, missing_bad_foreign_or_wrongly_signed_tokens_get_401) {
  const std::string id = unique_id("tok");
  EXPECT_EQ(status_of("/ws/" + id), 401);
  EXPECT_EQ(status_of("/ws/" + id + "?token=not.a.token"), 401);
  EXPECT_EQ(status_of("/ws/" + id + "?token=" + mint(unique_id("other"))), 401);
  EXPECT_EQ(status_of("/ws/" + id + "?token=" + mint(id, "another-secret")), 401);
}

TEST_F(admission, a_browser_sends_its_token_as_a_subprotocol_and_gets_parley_selected) {
  const std::string id = unique_id("tok");
  raw_client r(port());
  auto response =
      r.upgrade("/ws/" + id, "Sec-WebSocket-Protocol: parley, token." + mint(id) + "\r\n");
  ASSERT_EQ(response.status, 101);
  EXPECT_EQ(response.header("sec-websocket-protocol"), "parley");
}

TEST_F(admission, a_foreign_origin_gets_403_and_loopback_or_no_origin_passes) {
  const std::string id = unique_id("tok");
  const std::string target = "/ws/" + id + "?token=" + mint(id);
  EXPECT_EQ(status_of(target, "Origin: http://evil.example\r\n"), 403);
  EXPECT_EQ(status_of(target, "Origin: http://localhost:5173\r\n"), 101);
  EXPECT_EQ(status_of(target), 101);
}

class connection_cap : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flags
  static void SetUpTestSuite() { start_server({"--max-connections", "2"}); }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(connection_cap, past_max_connections_an_upgrade_gets_503_until_one_closes) {
  auto first = raw_ws(unique_id("a"));
  auto second = raw_ws(unique_id("b"));
  {
    raw_client third(port());
    EXPECT_EQ(third.upgrade("/ws/" + unique_id("c")).status, 503);
  }
  first->reset();
  // The hub counts the closed connection out as soon as the server sees the reset.
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 101; ++attempt) {
    raw_client again(port());
    status = again.upgrade("/ws/" + unique_id("c")).status;
    if (status != 101) run_for(ms{20});
  }
  EXPECT_EQ(status, 101);
}

}  // namespace
}  // namespace parley::it
