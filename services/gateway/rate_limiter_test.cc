#include "services/gateway/rate_limiter.h"

#include <gtest/gtest.h>

namespace crm::gateway {
namespace {

TEST(RateLimiterTest, BurstThenRefillPerCaller) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("alice", t0).allowed);
  const RateDecision refused = limiter.Take("alice", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 3);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset_seconds, 2);           // 3 tokens at 2/s
  EXPECT_TRUE(limiter.Take("bob", t0).allowed);  // others are unaffected
  EXPECT_TRUE(limiter.Take("alice", t0 + absl::Milliseconds(500)).allowed);  // one refilled
  EXPECT_FALSE(limiter.Take("alice", t0 + absl::Milliseconds(500)).allowed);
}

}  // namespace
}  // namespace crm::gateway

namespace crm::gateway {
namespace {

TEST(RateLimiterTest, AFloodOfNewCallersEvictsTheOldestAndDrainsNobodyElse) {
  RateLimiter limiter(/*per_second=*/1, /*burst=*/2, /*max_callers=*/100);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  EXPECT_TRUE(limiter.Take("alice", t0).allowed);
  EXPECT_TRUE(limiter.Take("alice", t0).allowed);
  EXPECT_FALSE(limiter.Take("alice", t0).allowed);  // alice is out
  // An attacker with a thousand fresh keys: each gets its own bucket, memory stays at the cap.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limiter.Take("attacker-" + std::to_string(i), t0).allowed);
    EXPECT_LE(limiter.callers(), 100u);
  }
  // Bob, who arrives after the flood, is not sharing anyone's drained bucket.
  EXPECT_TRUE(limiter.Take("bob", t0).allowed);
  EXPECT_TRUE(limiter.Take("bob", t0).allowed);
  // A caller in steady use is the most recent and survives further floods.
  for (int i = 0; i < 99; ++i) limiter.Take("flood-" + std::to_string(i), t0);
  EXPECT_FALSE(limiter.Take("bob", t0).allowed);  // still bob's own, empty bucket
}

}  // namespace
}  // namespace crm::gateway
