#include "parley/core/rate_limiter.hpp"

#include <gtest/gtest.h>

using parley::core::token_bucket;

constexpr std::int64_t second = 1'000'000'000;

TEST(token_bucket, takes_its_burst_then_refills_at_its_rate) {
  token_bucket bucket(2, 4);
  const std::int64_t t0 = 10 * second;
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(bucket.try_take(t0)) << i;
  EXPECT_FALSE(bucket.try_take(t0));
  EXPECT_TRUE(bucket.try_take(t0 + second / 2));  // one token back after half a second
  EXPECT_FALSE(bucket.try_take(t0 + second / 2));
}

TEST(token_bucket, is_full_again_once_its_burst_has_refilled) {
  token_bucket bucket(2, 4);
  const std::int64_t t0 = 10 * second;
  EXPECT_TRUE(bucket.full(t0));
  ASSERT_TRUE(bucket.try_take(t0, 3));
  EXPECT_FALSE(bucket.full(t0));
  EXPECT_FALSE(bucket.full(t0 + second));  // 3 of 4
  EXPECT_TRUE(bucket.full(t0 + 3 * second / 2));
}

TEST(token_bucket, a_rate_of_zero_never_refuses_and_is_always_full) {
  token_bucket bucket(0, 0);
  EXPECT_TRUE(bucket.try_take(second, 1000));
  EXPECT_TRUE(bucket.full(second));
}

using parley::core::message_budget;

TEST(message_budget, takes_two_seconds_of_messages_then_refills_at_the_rate) {
  message_budget budget(2, 0);
  const std::int64_t t0 = 10 * second;
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(budget.try_take(t0, 10)) << i;
  EXPECT_FALSE(budget.try_take(t0, 10));
  EXPECT_TRUE(budget.try_take(t0 + second / 2, 10));  // one message back after half a second
  EXPECT_FALSE(budget.try_take(t0 + second / 2, 10));
}

TEST(message_budget, a_message_over_the_byte_budget_takes_nothing_from_either_bucket) {
  message_budget budget(1, 100);  // 2 messages, 200 bytes
  const std::int64_t t0 = 10 * second;
  EXPECT_FALSE(budget.try_take(t0, 201));
  EXPECT_TRUE(budget.try_take(t0, 150));
  EXPECT_FALSE(budget.try_take(t0, 51));  // one message left, but 50 bytes
  EXPECT_TRUE(budget.try_take(t0, 50));
  EXPECT_FALSE(budget.try_take(t0, 0));  // no message left
  EXPECT_TRUE(budget.try_take(t0 + second, 100));
}

TEST(message_budget, rates_of_zero_never_refuse) {
  message_budget budget(0, 0);
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(budget.try_take(second, 1e9));
}

TEST(message_budget, is_twenty_four_bytes) {
  EXPECT_EQ(sizeof(message_budget), 24u);
}
