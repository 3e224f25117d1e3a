// PROXY protocol v2 from --trusted-proxies: the suite's server trusts 127.0.0.9, and raw clients
// bound to that address act as the proxy, sending headers byte by byte as HAProxy would (and
// malformed ones). The carried address is checked where an operator sees it (the admin API's
// peer, the log) and where it matters (--max-connections-per-ip). Clients from 127.0.0.1 are
// untrusted: a header from them is just bad HTTP. TLS behind the header: tls_test.cpp. A real
// HAProxy in front: tests/scripts/cluster_test.py, and haproxy_tls_test.py (TLS behind it).
#include <arpa/inet.h>

#include <chrono>
#include <regex>

#include "chat_test.hpp"

namespace parley::it {
namespace {

const std::string admin_token = "pr0xy-admin";
const std::string proxy_address = "127.0.0.9";
const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

constexpr char signature[] = "\r\n\r\n\0\r\nQUIT\n";

// A PROXY v2 header: `command` 0x20 LOCAL or 0x21 PROXY, TCP from `source`:`port` (an IPv4 or
// IPv6 literal) to the server, then `tlvs`.
std::string proxy_v2(std::uint8_t command, const std::string& source, std::uint16_t port,
                     const std::string& tlvs = "") {
  bool v6 = source.find(':') != std::string::npos;
  std::string addresses(v6 ? 36 : 12, '\0');
  std::size_t size = v6 ? 16 : 4;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, source.c_str(), addresses.data()) != 1) {
    throw std::invalid_argument("not an address: " + source);
  }
  addresses[v6 ? 16 : 4] = 127;  // destination 127.0.0.1 (or 7f00:1::), not read by the server
  addresses[2 * size] = static_cast<char>(port >> 8);
  addresses[2 * size + 1] = static_cast<char>(port & 0xFF);
  addresses[2 * size + 2] = 0x1F;  // destination port 8000
  addresses[2 * size + 3] = 0x40;
  std::string rest = addresses + tlvs;
  std::string header(signature, 12);
  header += static_cast<char>(command);
  header += static_cast<char>(v6 ? 0x21 : 0x11);  // TCP over IPv6 / IPv4
  header += static_cast<char>(rest.size() >> 8);
  header += static_cast<char>(rest.size() & 0xFF);
  return header + rest;
}

std::string admin_get(std::uint16_t port, const std::string& target) {
  raw_client admin(port);
  auto r =
      admin.request("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                    admin_token + "\r\n\r\n");
  if (r.status != 200) throw std::runtime_error(target + ": HTTP " + std::to_string(r.status));
  return r.body;
}

// The peers the admin API lists for `id`'s connections.
std::vector<std::string> peers_of(std::uint16_t port, const std::string& id) {
  auto body = json::parse(admin_get(port, "/admin/api/connections?id=" + id)).as_object();
  std::vector<std::string> peers;
  for (auto& c : body.at("connections").as_array())
    peers.emplace_back(c.as_object().at("peer").as_string());
  return peers;
}

std::uint64_t refusals_counted(std::uint16_t port) {
  std::string body = admin_get(port, "/metrics");
  const std::string name = "\nparley_proxy_header_refusals_total ";
  auto at = body.find(name);
  if (at == std::string::npos) throw std::runtime_error("no " + name + " in /metrics");
  return std::stoull(body.substr(at + name.size()));
}

class proxy_protocol : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (peer_mode()) return;
    start_server({"--trusted-proxies", "10.9.0.0/16," + proxy_address + "/32", "--admin-token",
                  admin_token, "--max-connections-per-ip", "1", "--handshake-timeout", "1"});
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override { PARLEY_SKIP_ON_PEER(); }

  // A connection from the proxy's address that has sent `header`.
  std::unique_ptr<raw_client> from_proxy(const std::string& header) {
    auto c = std::make_unique<raw_client>(port(), 0, proxy_address);
    c->send(header);
    return c;
  }

  // Upgrades /ws/<id> behind `header` and reads the welcome; the connection stays open.
  std::unique_ptr<raw_client> proxied_ws(const std::string& header, const std::string& id) {
    auto c = from_proxy(header);
    auto r = c->upgrade("/ws/" + id);
    EXPECT_EQ(r.status, 101) << r.body;
    auto welcome = c->read_frame();
    EXPECT_TRUE(welcome && welcome->payload.find("welcome") != std::string::npos);
    return c;
  }

  // The connection was closed without an answer, and the refusal was counted and logged.
  void expect_refused(raw_client& c, const std::string& why, std::uint64_t counted_before) {
    EXPECT_TRUE(c.wait_eof(3000ms));
    EXPECT_TRUE(server().wait_for_log(why, 3000ms)) << server().log();
    EXPECT_GT(refusals_counted(port()), counted_before);
  }
};

TEST_F(proxy_protocol, the_carried_ipv4_address_is_the_peer) {
  auto id = unique_id("v4");
  auto c = proxied_ws(proxy_v2(0x21, "203.0.113.7", 51000), id);
  EXPECT_EQ(peers_of(port(), id), std::vector<std::string>{"203.0.113.7:51000"});
}

TEST_F(proxy_protocol, the_carried_ipv6_address_is_the_peer) {
  auto id = unique_id("v6");
  auto c = proxied_ws(proxy_v2(0x21, "2001:db8::5", 12345), id);
  EXPECT_EQ(peers_of(port(), id), std::vector<std::string>{"2001:db8::5:12345"});
}

TEST_F(proxy_protocol, tlvs_are_skipped) {
  auto id = unique_id("tlv");
  std::string tlvs = std::string("\x01\x00\x02h2", 5) +
                     std::string(
                         "\x05\x00\x04"
                         "abcd",
                         7) +
                     std::string("\x04\x00\x00", 3);  // ALPN, unique id, an empty NOOP
  auto c = proxied_ws(proxy_v2(0x21, "198.51.100.20", 40000, tlvs), id);
  EXPECT_EQ(peers_of(port(), id), std::vector<std::string>{"198.51.100.20:40000"});
}

TEST_F(proxy_protocol, local_keeps_the_proxys_own_address) {
  auto check = from_proxy(proxy_v2(0x20, "0.0.0.0", 0));  // HAProxy's health check
  EXPECT_EQ(check->request(healthz).status, 200);
  auto id = unique_id("local");
  auto c = proxied_ws(proxy_v2(0x20, "0.0.0.0", 0), id);
  auto peers = peers_of(port(), id);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0].starts_with(proxy_address + ":")) << peers[0];
}

TEST_F(proxy_protocol, the_per_address_limit_counts_carried_addresses) {
  // --max-connections-per-ip 1: one real address, the proxy, carries two clients; each gets its
  // own slot, and the second connection of one of them is refused.
  auto first = from_proxy(proxy_v2(0x21, "192.0.2.10", 1000));
  EXPECT_EQ(first->request(healthz).status, 200);
  auto other = from_proxy(proxy_v2(0x21, "192.0.2.11", 1000));
  EXPECT_EQ(other->request(healthz).status, 200);
  auto again = from_proxy(proxy_v2(0x21, "192.0.2.10", 1001));
  auto refused = again->request(healthz);
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(server().wait_for_log("refused 192.0.2.10:1001", 3000ms)) << server().log();
}

TEST_F(proxy_protocol, a_request_without_a_header_is_closed_unanswered) {
  auto before = refusals_counted(port());
  auto c = from_proxy(healthz);
  expect_refused(*c, "no PROXY protocol v2 signature", before);
}

TEST_F(proxy_protocol, a_wrong_signature_byte_is_refused) {
  auto before = refusals_counted(port());
  auto header = proxy_v2(0x21, "203.0.113.8", 1);
  header[6] = 'X';
  auto c = from_proxy(header + healthz);
  expect_refused(*c, "no PROXY protocol v2 signature", before);
}

TEST_F(proxy_protocol, version_1_text_is_refused_with_its_reason) {
  auto before = refusals_counted(port());
  auto c = from_proxy("PROXY TCP4 203.0.113.9 127.0.0.1 5000 8000\r\n" + healthz);
  expect_refused(*c, "PROXY protocol v1 (text) is not accepted", before);
}

TEST_F(proxy_protocol, an_oversized_length_is_refused_before_reading_it) {
  auto before = refusals_counted(port());
  auto header = proxy_v2(0x21, "203.0.113.10", 1);
  header[14] = '\xFF';  // 65,535 bytes announced, none sent
  header[15] = '\xFF';
  auto c = from_proxy(header);
  auto start = steady::now();
  expect_refused(*c, "PROXY header longer than its limit", before);
  EXPECT_LT(ms_since(start), 900) << "refused at once, not at the handshake timeout";
}

TEST_F(proxy_protocol, a_truncated_header_is_refused_when_the_proxy_stops) {
  auto before = refusals_counted(port());
  auto c = from_proxy(proxy_v2(0x21, "203.0.113.11", 1).substr(0, 20));
  ::shutdown(c->fd(), SHUT_WR);
  expect_refused(*c, "no complete PROXY header", before);
}

TEST_F(proxy_protocol, a_header_sent_slowly_is_cut_at_the_handshake_timeout) {
  auto before = refusals_counted(port());
  auto header = proxy_v2(0x21, "203.0.113.12", 1);
  auto c = from_proxy(header.substr(0, 5));
  auto start = steady::now();
  for (int i = 5; i < 10; ++i) {  // a byte every 300 ms: 1.5 s for 10 bytes, past the 1 s limit
    std::this_thread::sleep_for(300ms);
    if (!c->try_send(header.substr(i, 1))) break;
  }
  expect_refused(*c, "no complete PROXY header within --handshake-timeout", before);
  EXPECT_GT(ms_since(start), 700);
  EXPECT_LT(ms_since(start), 4000);
}

TEST_F(proxy_protocol, a_udp_or_unix_header_is_refused) {
  auto before = refusals_counted(port());
  auto header = proxy_v2(0x21, "203.0.113.13", 1);
  header[13] = 0x12;  // UDP over IPv4
  auto c = from_proxy(header + healthz);
  expect_refused(*c, "other than TCP over IPv4 or IPv6", before);
}

TEST_F(proxy_protocol, an_untrusted_peer_is_never_read_for_a_header) {
  auto before = refusals_counted(port());
  raw_client c(port());  // 127.0.0.1: not in --trusted-proxies
  auto r = c.request(proxy_v2(0x21, "203.0.113.14", 1) + healthz);
  EXPECT_EQ(r.status, 400) << "the header is bad HTTP from an untrusted address";
  EXPECT_EQ(refusals_counted(port()), before);
  raw_client plain(port());
  EXPECT_EQ(plain.request(healthz).status, 200);
}

// The ops port (--admin-listen) is not behind the proxy: a trusted address reaches it without a
// header, while the main port still wants one from that address.
class proxy_protocol_ops_port : public chat_test {
 protected:
  static void SetUpTestSuite() {
    if (peer_mode()) return;
    start_server({"--trusted-proxies", "127.0.0.0/8", "--admin-listen", "127.0.0.1:0"});
    static const std::regex line(R"(admin port on http://127\.0\.0\.1:([0-9]+))");
    std::smatch m;
    std::string log = server().log();
    if (std::regex_search(log, m, line)) ops_port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  }
  static void TearDownTestSuite() { stop_server(); }
  void SetUp() override {
    PARLEY_SKIP_ON_PEER();
    ASSERT_NE(ops_port_, 0) << server().log();
  }
  static inline std::uint16_t ops_port_ = 0;
};

TEST_F(proxy_protocol_ops_port, needs_no_header_while_the_main_port_does) {
  raw_client ops(ops_port_);
  EXPECT_EQ(ops.request(healthz).status, 200);
  raw_client main(port());
  main.send(healthz);
  EXPECT_TRUE(main.wait_eof(3000ms));
  EXPECT_TRUE(server().wait_for_log("no PROXY protocol v2 signature", 3000ms)) << server().log();
  raw_client proxied(port());
  proxied.send(proxy_v2(0x20, "0.0.0.0", 0));
  auto page = proxied.request("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(page.status, 200) << "the main port serves pages, not /healthz, with --admin-listen";
}

}  // namespace
}  // namespace parley::it
