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
