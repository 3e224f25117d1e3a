#include "parley/net/origin_policy.hpp"

#include <gtest/gtest.h>

using parley::net::origin_policy;

TEST(origin_policy, default_allows_no_origin_own_host_and_loopback_pages) {
  origin_policy policy({});
  EXPECT_TRUE(policy.allows("", "chat.example.com:8000"));
  EXPECT_TRUE(policy.allows("http://chat.example.com:8000", "chat.example.com:8000"));
  EXPECT_TRUE(policy.allows("http://localhost:3000", "127.0.0.1:8000"));
  EXPECT_TRUE(policy.allows("http://127.0.0.1:5173", "127.0.0.1:8000"));
  EXPECT_TRUE(policy.allows("http://[::1]:5173", "127.0.0.1:8000"));
  EXPECT_FALSE(policy.allows("http://evil.example", "127.0.0.1:8000"));
  EXPECT_FALSE(policy.allows("http://localhost.evil.example", "127.0.0.1:8000"));
  EXPECT_FALSE(policy.allows("null", "127.0.0.1:8000"));
  EXPECT_FALSE(policy.allows("http://chat.example.com:9000", "chat.example.com:8000"));
}

TEST(origin_policy, a_list_replaces_the_loopback_default) {
  origin_policy policy({"https://app.example.com"});
  EXPECT_TRUE(policy.allows("https://app.example.com", "chat.example.com"));
  EXPECT_TRUE(policy.allows("HTTPS://APP.EXAMPLE.COM", "chat.example.com"));
  EXPECT_TRUE(policy.allows("https://chat.example.com", "chat.example.com"));
  EXPECT_FALSE(policy.allows("http://localhost:3000", "chat.example.com"));
  EXPECT_FALSE(policy.allows("https://app.example.com.evil", "chat.example.com"));
}

TEST(origin_policy, star_allows_every_origin) {
  origin_policy policy({"*"});
  EXPECT_TRUE(policy.allows("http://anything.example", "127.0.0.1:8000"));
}
