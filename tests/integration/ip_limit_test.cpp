// The per-address limits: open connections per address and new connections a second per
// address, each over its limit answered 429 with Retry-After before any upgrade. Loopback is
// exempt unless --ip-limits-on-loopback, which these suites set, binding their clients to
// addresses of 127.0.0.0/8 to act as different peers (one address per test, so that tests do
// not share a count).
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "chat_test.hpp"

namespace parley::it {
namespace {

const std::string keep_alive_request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

// A connection from `source` that the server has counted: one request answered, kept alive.
std::unique_ptr<raw_client> open_page(std::uint16_t port, const std::string& source) {
  auto client = std::make_unique<raw_client>(port, 0, source);
  auto response = client->request(keep_alive_request);
  if (response.status != 200) {
    throw std::runtime_error("GET /healthz from " + source + ": HTTP " +
                             std::to_string(response.status));
  }
  return client;
}

// The status of a one-request connection from `source`.
int page_status(std::uint16_t port, const std::string& source) {
  raw_client client(port, 0, source);
  return client.request(keep_alive_request).status;
}

// Like open_page, retried for up to 2 s, since a slot is freed once the server has seen its
// connection close; null when every try got 429.
std::unique_ptr<raw_client> open_page_within_2s(std::uint16_t port, const std::string& source) {
  for (auto deadline = steady::now() + 2s; steady::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    auto client = std::make_unique<raw_client>(port, 0, source);
    if (client->request(keep_alive_request).status == 200) return client;
  }
  return nullptr;
}

void expect_too_many_requests(const http_response& response, const std::string& why) {
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.header("retry-after"), "1");
  EXPECT_NE(response.body.find(why), std::string::npos) << response.body;
}

class ip_open_limit : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }  // Parley's own flags
  static void SetUpTestSuite() {
    start_server({"--ip-limits-on-loopback", "--max-connections-per-ip", "3",
                  "--max-new-connections-per-ip", "0"});
  }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(ip_open_limit, past_the_limit_a_page_gets_429_and_is_closed_while_another_address_connects) {
  const std::string address = "127.0.1.1";
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(open_page(port(), address));
  raw_client waiting(port(), 0, address);  // refused at accept; its request comes later
  raw_client over(port(), 0, address);
  expect_too_many_requests(over.request(keep_alive_request), "too many open connections");
  EXPECT_TRUE(over.wait_eof(2s)) << "the refused connection stayed open";
  EXPECT_EQ(page_status(port(), "127.0.1.2"), 200);

  held.pop_back();  // its slot goes to the next connection, not to the refused one waiting
  EXPECT_TRUE(open_page_within_2s(port(), address));
  expect_too_many_requests(waiting.request(keep_alive_request), "too many open connections");
}

TEST_F(ip_open_limit, an_upgrade_past_the_limit_gets_429_and_a_bad_id_still_400) {
  const std::string address = "127.0.2.1";
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 3; ++i)
    held.push_back(open_page(port(), address));
  {
    raw_client over(port(), 0, address);
    expect_too_many_requests(over.upgrade("/ws/" + unique_id("over")), "too many open");
    // Logged at info when refused (at accept), with the flag that sets the limit.
    EXPECT_TRUE(server().wait_for_log(
        "at accept: 429 too many open connections from this address (--max-connections-per-ip)",
        2s))
        << server().log();
    EXPECT_NE(server().log().find("refused " + address + ":"), std::string::npos) << server().log();
  }
  {
    raw_client bad_id(port(), 0, address);
    EXPECT_EQ(bad_id.upgrade("/ws/a%2Fb").status, 400);  // the id check comes first
  }
  raw_client other(port(), 0, "127.0.2.2");
  EXPECT_EQ(other.upgrade("/ws/" + unique_id("other")).status, 101);
}

TEST_F(ip_open_limit, closing_a_page_or_a_websocket_frees_its_slot) {
  const std::string address = "127.0.3.1";
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 2; ++i)
    held.push_back(open_page(port(), address));
  auto socket = std::make_unique<raw_client>(port(), 0, address);
  ASSERT_EQ(socket->upgrade("/ws/" + unique_id("ws")).status, 101);
  ASSERT_EQ(page_status(port(), address), 429);

  held.pop_back();  // a page connection closed
  held.push_back(open_page_within_2s(port(), address));
  ASSERT_TRUE(held.back());
  ASSERT_EQ(page_status(port(), address), 429);

  socket->send_frame(8, close_payload(1000));  // a WebSocket closed with its handshake
  EXPECT_EQ(socket->read_until_close(), 1000);
  socket.reset();
  EXPECT_TRUE(open_page_within_2s(port(), address));
}

class ip_rate_limit : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
  // Two a second in bursts of four: one new connection every 500 ms once the burst is spent.
  static void SetUpTestSuite() {
    start_server({"--ip-limits-on-loopback", "--max-new-connections-per-ip", "2"});
  }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(ip_rate_limit, a_burst_past_the_rate_gets_429_and_connects_again_after_the_refill) {
  const std::string address = "127.0.4.1";
  // However slow the machine, ten connections one after the other from one address pass the
  // burst of four plus the refill meanwhile, unless they take over 3 s.
  auto started = steady::now();
  int accepted = 0;
  std::optional<http_response> refused;
  for (int i = 0; i < 10; ++i) {
    raw_client client(port(), 0, address);
    auto response = client.request(keep_alive_request);
    if (response.status == 200) ++accepted;
    if (response.status == 429 && !refused) refused = response;
  }
  double seconds = ms_since(started) / 1000;
  ASSERT_TRUE(refused) << "10 connections in " << seconds << " s: none refused";
  expect_too_many_requests(*refused, "too many new connections");
  EXPECT_GE(accepted, 4);
  EXPECT_LE(accepted, 4 + static_cast<int>(seconds * 2) + 1);
  EXPECT_EQ(page_status(port(), "127.0.4.2"), 200);  // another address is not held back

  std::this_thread::sleep_for(1100ms);  // two connections' worth
  EXPECT_EQ(page_status(port(), address), 200);
  EXPECT_EQ(page_status(port(), address), 200);
}

TEST_F(ip_rate_limit, an_upgrade_over_the_rate_gets_429_before_it_is_upgraded) {
  const std::string address = "127.0.5.1";
  int status = 0;
  for (int i = 0; i < 10 && status != 429; ++i) {
    raw_client client(port(), 0, address);
    auto response = client.upgrade("/ws/" + unique_id("rate"));
    status = response.status;
    if (status == 429) expect_too_many_requests(response, "too many new connections");
  }
  EXPECT_EQ(status, 429);
}

class ip_limits_off_loopback : public chat_test {
 protected:
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }
  static void SetUpTestSuite() {
    start_server({"--max-connections-per-ip", "1", "--max-new-connections-per-ip", "1"});
  }
  static void TearDownTestSuite() { stop_server(); }
};

TEST_F(ip_limits_off_loopback, loopback_peers_are_exempt_by_default) {
  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 5; ++i)
    held.push_back(open_page(port(), "127.0.0.1"));
  held.push_back(open_page(port(), "127.0.6.1"));
  held.push_back(open_page(port(), "127.0.6.1"));
  auto socket = raw_ws(unique_id("exempt"));
  EXPECT_TRUE(socket);
}

}  // namespace
}  // namespace parley::it
