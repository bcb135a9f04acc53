// Per-caller token buckets: `burst` calls at once, refilled at `per_second`. Thread-safe. Pure
// apart from the clock it is given; unit-tested.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::gateway {

struct RateDecision {
  bool allowed = true;
  int limit = 0;          // RateLimit-Limit
  int remaining = 0;      // RateLimit-Remaining
  int reset_seconds = 0;  // RateLimit-Reset: until the bucket is full again
};

class RateLimiter final {
 public:
  RateLimiter(double per_second, int burst) : per_second_(per_second), burst_(burst) {}

  RateDecision Take(const std::string& caller, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  const double per_second_;
  const int burst_;
  absl::Mutex mu_;
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time last_sweep_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::gateway
