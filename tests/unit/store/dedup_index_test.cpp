#include "dedup_index.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace parley::store {
namespace {

constexpr std::int64_t window_ms = 1000;
constexpr std::int64_t t0 = 1'700'000'000'000;  // a realistic unix time in ms

// The table is indexed by the key's low bits and starts with 1024 slots, so raw keys that
// differ by a multiple of 1024 share a first slot: a probe chain made on purpose.
constexpr std::uint64_t collide(std::uint64_t key, std::uint64_t n) {
  return key + n * 1024;
}

// Runs `work` on a thread of its own and waits at most `limit` for it: an index that loops
// forever fails the test instead of hanging the suite. On a timeout the thread is left behind
// (detached, still owning what `work` holds) and the process ends with the test run.
testing::AssertionResult finishes_within(std::chrono::seconds limit, std::function<void()> work) {
  auto finished = std::make_shared<std::promise<void>>();
  std::future<void> result = finished->get_future();
  std::thread([work = std::move(work), finished] {
    work();
    finished->set_value();
  }).detach();
  if (result.wait_for(limit) == std::future_status::ready) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "did not finish within " << limit.count() << " s";
}

TEST(DedupIndex, KeyDependsOnSenderAndCid) {
  EXPECT_EQ(dedup_index::key("1001", "c1"), dedup_index::key("1001", "c1"));
  EXPECT_NE(dedup_index::key("1001", "c1"), dedup_index::key("1001", "c2"));
  EXPECT_NE(dedup_index::key("1001", "c1"), dedup_index::key("1002", "c1"));
  EXPECT_NE(dedup_index::key("1001", "c1"), dedup_index::key("c1", "1001"));
}

TEST(DedupIndex, UnknownKeyIsNotFound) {
  dedup_index d(window_ms, 100);
  EXPECT_EQ(d.find(42, t0), std::nullopt);
  EXPECT_EQ(d.size(), 0u);
}

TEST(DedupIndex, StagedThenCommitted) {
  dedup_index d(window_ms, 100);
  d.stage(42, 7);
  auto hit = d.find(42, t0);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->staged);
  EXPECT_EQ(hit->value, 7);
  EXPECT_EQ(d.size(), 0u);  // only committed entries are remembered in time order

  d.commit(42, 555, t0);
  hit = d.find(42, t0);
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->staged);
  EXPECT_EQ(hit->value, 555);
  EXPECT_EQ(d.size(), 1u);
}

TEST(DedupIndex, StagedIndexZeroIsNotEmpty) {
  dedup_index d(window_ms, 100);
  d.stage(9, 0);
  auto hit = d.find(9, t0);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->staged);
  EXPECT_EQ(hit->value, 0);
}

TEST(DedupIndex, UnstageForgetsAStagedKeyOnly) {
  dedup_index d(window_ms, 100);
  d.stage(1, 0);
  d.unstage(1);
  EXPECT_EQ(d.find(1, t0), std::nullopt);

  d.commit(2, 10, t0);
  d.unstage(2);  // committed: a rollback of a later batch does not touch it
  auto hit = d.find(2, t0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 10);
}

// An erased slot keeps the probe chain going: keys after it in the chain are still found.
TEST(DedupIndex, ProbingGoesOnPastErasedSlots) {
  dedup_index d(window_ms, 100);
  d.stage(collide(5, 0), 0);
  d.stage(collide(5, 1), 1);
  d.stage(collide(5, 2), 2);
  d.unstage(collide(5, 0));
  d.unstage(collide(5, 1));
  auto hit = d.find(collide(5, 2), t0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 2);
  // A key staged again after its erasure is found once, with its new value.
  d.stage(collide(5, 1), 3);
  hit = d.find(collide(5, 1), t0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 3);
}

TEST(DedupIndex, EntriesExpireAfterTheWindow) {
  dedup_index d(window_ms, 100);
  d.commit(1, 11, t0);
  d.commit(2, 12, t0 + 500);
  EXPECT_TRUE(d.find(1, t0 + window_ms - 1));
  EXPECT_EQ(d.find(1, t0 + window_ms), std::nullopt);  // the window is [ts, ts + window)
  EXPECT_TRUE(d.find(2, t0 + window_ms));
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.find(2, t0 + 500 + window_ms), std::nullopt);
  EXPECT_EQ(d.size(), 0u);
}

// Any lookup expires what is old, whatever key it asks for.
TEST(DedupIndex, ExpiryHappensOnAnyLookup) {
  dedup_index d(window_ms, 100);
  for (std::uint64_t k = 1; k <= 50; ++k)
    d.commit(k, static_cast<std::int64_t>(k), t0 + static_cast<std::int64_t>(k));
  EXPECT_EQ(d.find(999, t0 + 25 + window_ms), std::nullopt);
  EXPECT_EQ(d.size(), 25u);
  EXPECT_EQ(d.find(25, t0 + 25 + window_ms), std::nullopt);
  EXPECT_TRUE(d.find(26, t0 + 25 + window_ms));
}

TEST(DedupIndex, KeyReAddedAfterExpiry) {
  dedup_index d(window_ms, 100);
  d.commit(7, 70, t0);
  EXPECT_EQ(d.find(7, t0 + 2 * window_ms), std::nullopt);
  d.stage(7, 0);
  d.commit(7, 71, t0 + 2 * window_ms);
  auto hit = d.find(7, t0 + 2 * window_ms + 1);
  ASSERT_TRUE(hit);
  EXPECT_FALSE(hit->staged);
  EXPECT_EQ(hit->value, 71);
  EXPECT_EQ(d.size(), 1u);
  // It expires on its own time, not the first entry's.
  EXPECT_TRUE(d.find(7, t0 + 3 * window_ms - 1));
  EXPECT_EQ(d.find(7, t0 + 3 * window_ms), std::nullopt);
}

// The old entry of a key taken again before it expired leaves the time queue without erasing
// the newer one.
TEST(DedupIndex, ExpiryOfAnOldEntryKeepsTheNewerOneOfTheSameKey) {
  dedup_index d(window_ms, 100);
  d.commit(7, 70, t0);
  d.commit(7, 71, t0 + 600);
  auto hit = d.find(7, t0 + window_ms);  // the first one's time is up
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 71);
  EXPECT_EQ(d.size(), 1u);
}

TEST(DedupIndex, MaxEntriesForgetsTheOldest) {
  dedup_index d(window_ms, 3);
  for (std::uint64_t k = 1; k <= 5; ++k)
    d.commit(k, static_cast<std::int64_t>(10 + k), t0);
  EXPECT_EQ(d.size(), 3u);
  EXPECT_EQ(d.find(1, t0), std::nullopt);
  EXPECT_EQ(d.find(2, t0), std::nullopt);
  for (std::uint64_t k = 3; k <= 5; ++k) {
    auto hit = d.find(k, t0);
    ASSERT_TRUE(hit) << k;
    EXPECT_EQ(hit->value, static_cast<std::int64_t>(10 + k));
  }
}

TEST(DedupIndex, MaxEntriesKeepsANewerEntryWithTheSameKey) {
  dedup_index d(window_ms, 3);
  d.commit(1, 101, t0);
  d.commit(2, 102, t0);
  d.commit(1, 103, t0);  // key 1 again, newer row
  d.commit(3, 104, t0);  // over the cap: the oldest entry (key 1, row 101) goes
  EXPECT_EQ(d.size(), 3u);
  auto hit = d.find(1, t0);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value, 103);
  d.commit(4, 105, t0);  // key 2 goes
  EXPECT_EQ(d.find(2, t0), std::nullopt);
  EXPECT_TRUE(d.find(1, t0));
}

// A staged key is not erased when an older committed entry of the same key is forgotten.
TEST(DedupIndex, ForgettingKeepsAStagedKey) {
  dedup_index d(window_ms, 1);
  d.commit(1, 101, t0);
  d.stage(1, 4);
  d.commit(2, 102, t0);  // over the cap: (1, 101) is forgotten
  auto hit = d.find(1, t0);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->staged);
  EXPECT_EQ(hit->value, 4);
}

// Regression: grow() once sized the new table by committed entries only, so a fresh index
// with thousands of staged keys (a large first batch) rehashed into a table with no empty
// slot, and the next probe looped forever.
TEST(DedupIndex, GrowsWhileThousandsOfKeysAreStaged) {
  auto d = std::make_shared<dedup_index>(window_ms, 1'000'000);
  std::shared_ptr<int> missing = std::make_shared<int>(-1);
  auto stage_9000 = [d, missing] {
    constexpr std::uint64_t n = 9000;
    for (std::uint64_t i = 0; i < n; ++i)
      d->stage(dedup_index::key("sender", std::to_string(i)), i);
    int lost = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      auto hit = d->find(dedup_index::key("sender", std::to_string(i)), t0);
      lost += !hit || !hit->staged || hit->value != static_cast<std::int64_t>(i);
    }
    *missing = lost;
  };
  ASSERT_TRUE(finishes_within(std::chrono::seconds(10), stage_9000));
  EXPECT_EQ(*missing, 0);
}

// Then the whole batch commits, and a second one is staged on top.
TEST(DedupIndex, GrowsAcrossBatches) {
  auto d = std::make_shared<dedup_index>(window_ms, 1'000'000);
  auto missing = std::make_shared<int>(-1);
  auto two_batches = [d, missing] {
    for (std::uint64_t i = 0; i < 5000; ++i)
      d->stage(i * 7919, i);
    for (std::uint64_t i = 0; i < 5000; ++i)
      d->commit(i * 7919, static_cast<std::int64_t>(i + 1), t0);
    for (std::uint64_t i = 5000; i < 12000; ++i)
      d->stage(i * 7919, i - 5000);
    int lost = 0;
    for (std::uint64_t i = 0; i < 12000; ++i) {
      auto hit = d->find(i * 7919, t0);
      if (i < 5000)
        lost += !hit || hit->staged || hit->value != static_cast<std::int64_t>(i + 1);
      else
        lost += !hit || !hit->staged || hit->value != static_cast<std::int64_t>(i - 5000);
    }
    *missing = lost;
  };
  ASSERT_TRUE(finishes_within(std::chrono::seconds(10), two_batches));
  EXPECT_EQ(*missing, 0);
  EXPECT_EQ(d->size(), 5000u);
}

// Rolled-back batches leave erased slots behind; they must not fill the table for good.
TEST(DedupIndex, ManyRolledBackBatchesDoNotFillTheTable) {
  auto d = std::make_shared<dedup_index>(window_ms, 1'000'000);
  auto found = std::make_shared<bool>(false);
  auto roll_back_200 = [d, found] {
    for (std::uint64_t batch = 0; batch < 200; ++batch) {
      for (std::uint64_t i = 0; i < 500; ++i)
        d->stage(batch * 1'000'003 + i, i);
      for (std::uint64_t i = 0; i < 500; ++i)
        d->unstage(batch * 1'000'003 + i);
    }
    d->commit(77, 1, t0);
    *found = d->find(77, t0).has_value() && !d->find(1'000'003, t0);
  };
  ASSERT_TRUE(finishes_within(std::chrono::seconds(10), roll_back_200));
  EXPECT_TRUE(*found);
}

// Expired entries, erased by the thousand, are dropped when the table grows.
TEST(DedupIndex, ChurnThroughTheWindow) {
  auto d = std::make_shared<dedup_index>(10, 1'000'000);
  auto ok = std::make_shared<bool>(false);
  auto churn = [d, ok] {
    std::int64_t now = t0;
    for (std::uint64_t i = 0; i < 100'000; ++i) {
      now += 1;
      d->find(i, now);
      d->stage(i, 0);
      d->commit(i, static_cast<std::int64_t>(i + 1), now);
    }
    *ok = d->size() == 10 && d->find(99'999, now) && !d->find(99'989, now);
  };
  ASSERT_TRUE(finishes_within(std::chrono::seconds(10), churn));
  EXPECT_TRUE(*ok);
}

}  // namespace
}  // namespace parley::store
