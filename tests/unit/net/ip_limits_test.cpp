#include "parley/net/ip_limits.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <vector>

using parley::net::ip_limits;
using parley::net::ip_refusal;
using parley::net::server_config;

namespace {

constexpr std::int64_t second = 1'000'000'000;
constexpr std::int64_t t0 = 100 * second;

server_config limits(std::size_t open, double per_second, std::size_t tracked = 1000) {
  server_config config;
  config.max_connections_per_ip = open;
  config.max_new_connections_per_ip = per_second;
  config.max_tracked_ips = tracked;
  config.ip_limits_on_loopback = false;
  return config;
}

boost::asio::ip::address ip(const char* text) {
  return boost::asio::ip::make_address(text);
}

// The slot, or nullopt when refused.
std::optional<ip_limits::slot> take(ip_limits& table, const char* address, std::int64_t now = t0) {
  auto taken = table.acquire(ip(address), now);
  if (auto* slot = std::get_if<ip_limits::slot>(&taken)) return std::move(*slot);
  return std::nullopt;
}

std::optional<ip_refusal> refusal(ip_limits& table, const char* address, std::int64_t now = t0) {
  auto taken = table.acquire(ip(address), now);
  if (auto* refused = std::get_if<ip_refusal>(&taken)) return *refused;
  return std::nullopt;
}

}  // namespace

TEST(ip_limits, refuses_an_address_past_its_open_connections_and_not_another) {
  ip_limits table(limits(2, 0));
  auto first = take(table, "192.0.2.1");
  auto second = take(table, "192.0.2.1");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(refusal(table, "192.0.2.1"), ip_refusal::too_many_open);
  EXPECT_TRUE(take(table, "192.0.2.2"));
}

TEST(ip_limits, a_destroyed_slot_frees_its_place_and_a_moved_one_keeps_it) {
  ip_limits table(limits(1, 0));
  {
    auto first = take(table, "192.0.2.1");
    ASSERT_TRUE(first);
    ip_limits::slot moved = std::move(*first);
    first.reset();  // the moved-from slot gives nothing back
    EXPECT_EQ(refusal(table, "192.0.2.1"), ip_refusal::too_many_open);
  }
  EXPECT_TRUE(take(table, "192.0.2.1"));
}

TEST(ip_limits, new_connections_come_in_bursts_of_two_seconds_then_at_the_rate) {
  ip_limits table(limits(100, 2));  // a burst of 4
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(take(table, "192.0.2.1")) << i;  // each slot given back at once
  EXPECT_EQ(refusal(table, "192.0.2.1"), ip_refusal::too_many_new);
  EXPECT_TRUE(take(table, "192.0.2.2"));
  EXPECT_TRUE(take(table, "192.0.2.1", t0 + second / 2));
  EXPECT_EQ(refusal(table, "192.0.2.1", t0 + second / 2), ip_refusal::too_many_new);
}

TEST(ip_limits, a_connection_refused_for_too_many_open_still_takes_a_token) {
  ip_limits table(limits(1, 1));  // a burst of 2
  auto held = take(table, "192.0.2.1");
  EXPECT_EQ(refusal(table, "192.0.2.1"), ip_refusal::too_many_open);
  held.reset();
  EXPECT_EQ(refusal(table, "192.0.2.1"), ip_refusal::too_many_new);
}

TEST(ip_limits, an_address_with_nothing_open_is_forgotten_once_its_bucket_is_full) {
  ip_limits table(limits(10, 1));  // refills a burst of 2 in 2 s
  { auto done = take(table, "192.0.2.1"); }
  { auto open = take(table, "192.0.2.2"); }
  auto still_open = take(table, "192.0.2.3");
  EXPECT_EQ(table.tracked(), 3u);
  EXPECT_TRUE(take(table, "192.0.2.4", t0 + second / 2));  // nothing refilled yet
  EXPECT_EQ(table.tracked(), 4u);
  EXPECT_TRUE(take(table, "192.0.2.3", t0 + 3 * second));  // .1, .2 and .4 refilled: forgotten
  EXPECT_EQ(table.tracked(), 1u);
}

TEST(ip_limits, at_the_cap_the_longest_idle_address_is_forgotten_and_open_ones_never) {
  ip_limits table(limits(10, 100, 2));
  { auto idle = take(table, "192.0.2.1"); }
  auto open = take(table, "192.0.2.2");
  auto newcomer = take(table, "192.0.2.3");  // .1 is forgotten before its bucket is full
  ASSERT_TRUE(newcomer);
  EXPECT_EQ(table.tracked(), 2u);
  EXPECT_EQ(refusal(table, "192.0.2.4"), ip_refusal::too_many_addresses);
  newcomer.reset();
  EXPECT_TRUE(take(table, "192.0.2.4"));
  EXPECT_EQ(table.tracked(), 2u);
}

TEST(ip_limits, loopback_is_exempt_unless_configured) {
  ip_limits exempt(limits(1, 1));
  std::vector<ip_limits::slot> held;
  for (const char* address : {"127.0.0.1", "127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"}) {
    auto slot = take(exempt, address);
    ASSERT_TRUE(slot) << address;
    held.push_back(std::move(*slot));
  }
  EXPECT_EQ(exempt.tracked(), 0u);

  server_config config = limits(1, 0);
  config.ip_limits_on_loopback = true;
  ip_limits limited(config);
  auto first = take(limited, "127.0.0.1");
  EXPECT_EQ(refusal(limited, "127.0.0.1"), ip_refusal::too_many_open);
  EXPECT_TRUE(take(limited, "127.0.0.2"));
}

TEST(ip_limits, ipv6_counts_by_its_64_and_ipv4_mapped_as_ipv4) {
  ip_limits table(limits(1, 0));
  auto host = take(table, "2001:db8:1:2::1");
  ASSERT_TRUE(host);
  EXPECT_EQ(refusal(table, "2001:db8:1:2:ffff::99"), ip_refusal::too_many_open);
  EXPECT_TRUE(take(table, "2001:db8:1:3::1"));
  auto v4 = take(table, "198.51.100.7");
  ASSERT_TRUE(v4);
  EXPECT_EQ(refusal(table, "::ffff:198.51.100.7"), ip_refusal::too_many_open);
}

// Workers take and give back slots of the same addresses at once; run under TSan too.
TEST(ip_limits, threads_share_the_table) {
  ip_limits table(limits(1000, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table] {
      const char* addresses[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};
      for (int i = 0; i < 2000; ++i) {
        auto slot = take(table, addresses[i % 3]);
        EXPECT_TRUE(slot);
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_TRUE(take(table, "192.0.2.9"));  // the rate is off: every idle bucket is full
  EXPECT_EQ(table.tracked(), 1u);
}
