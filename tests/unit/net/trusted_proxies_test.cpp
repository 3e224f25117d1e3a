#include "parley/net/trusted_proxies.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using boost::asio::ip::make_address;
using parley::net::trusted_proxies;

TEST(trusted_proxies, empty_trusts_no_one) {
  trusted_proxies none;
  EXPECT_FALSE(none.trusts(make_address("127.0.0.1")));
  EXPECT_FALSE(none.trusts(make_address("::1")));
}

TEST(trusted_proxies, ipv4_networks_match_by_prefix) {
  trusted_proxies list({"10.1.0.0/16", "192.0.2.7", "172.16.0.0/12", "198.51.100.128/25"});
  EXPECT_TRUE(list.trusts(make_address("10.1.255.3")));
  EXPECT_FALSE(list.trusts(make_address("10.2.0.1")));
  EXPECT_TRUE(list.trusts(make_address("192.0.2.7")));
  EXPECT_FALSE(list.trusts(make_address("192.0.2.8")));
  EXPECT_TRUE(list.trusts(make_address("172.31.0.1")));
  EXPECT_FALSE(list.trusts(make_address("172.32.0.1")));
  EXPECT_TRUE(list.trusts(make_address("198.51.100.200")));
  EXPECT_FALSE(list.trusts(make_address("198.51.100.127")));
}

TEST(trusted_proxies, a_v4_mapped_peer_matches_ipv4_networks_and_families_stay_apart) {
  trusted_proxies list({"127.0.0.2/32", "fd00::/8"});
  EXPECT_TRUE(list.trusts(make_address("::ffff:127.0.0.2")));
  EXPECT_FALSE(list.trusts(make_address("::ffff:127.0.0.1")));
  EXPECT_TRUE(list.trusts(make_address("fd12::1")));
  EXPECT_FALSE(list.trusts(make_address("fe80::1")));
  EXPECT_FALSE(list.trusts(make_address("::1")));
  trusted_proxies everything({"0.0.0.0/0", "::/0"});
  EXPECT_TRUE(everything.trusts(make_address("8.8.8.8")));
  EXPECT_TRUE(everything.trusts(make_address("2001:db8::1")));
}

TEST(trusted_proxies, entries_that_are_not_networks_are_named) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x", "host.example",
                          "10.0.0/8", "10.0.0.0/-1"}) {
    ASSERT_TRUE(trusted_proxies::invalid(bad)) << bad;
    EXPECT_NE(trusted_proxies::invalid(bad)->find(bad), std::string::npos);
    EXPECT_THROW(trusted_proxies({bad}), std::invalid_argument) << bad;
  }
  EXPECT_FALSE(trusted_proxies::invalid("10.0.0.0/8"));
  EXPECT_FALSE(trusted_proxies::invalid("::1"));
}
