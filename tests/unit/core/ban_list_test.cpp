#include "parley/core/ban_list.hpp"

#include <gtest/gtest.h>

namespace parley::core {
namespace {

TEST(BanList, BansUntilTheGivenTime) {
  ban_list bans(10);
  EXPECT_TRUE(bans.ban("a", 2000, 1000));
  EXPECT_EQ(bans.banned_until("a", 1000), 2000);
  EXPECT_EQ(bans.banned_until("a", 1999), 2000);
  EXPECT_FALSE(bans.banned_until("a", 2000));
  EXPECT_FALSE(bans.banned_until("b", 1000));
}

TEST(BanList, ALaterBanReplacesTheEarlier) {
  ban_list bans(1);
  EXPECT_TRUE(bans.ban("a", 2000, 1000));
  EXPECT_TRUE(bans.ban("a", 5000, 1000));
  EXPECT_EQ(bans.banned_until("a", 3000), 5000);
  EXPECT_EQ(bans.size(), 1u);
}

TEST(BanList, IsBoundedAndSweepsExpiredBansWhenFull) {
  ban_list bans(2);
  EXPECT_TRUE(bans.ban("a", 2000, 1000));
  EXPECT_TRUE(bans.ban("b", 9000, 1000));
  EXPECT_FALSE(bans.ban("c", 9000, 1500)) << "full of live bans";
  EXPECT_EQ(bans.size(), 2u);
  EXPECT_TRUE(bans.ban("c", 9000, 2500)) << "a's ban has ended: its place is free";
  EXPECT_EQ(bans.size(), 2u);
  EXPECT_FALSE(bans.banned_until("a", 2500));
}

}  // namespace
}  // namespace parley::core
