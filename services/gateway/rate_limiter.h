// Per-caller token buckets: `burst` calls at once, refilled at `per_second`. Thread-safe. Pure
// apart from the clock it is given; unit-tested.
//
// Memory is bounded by `max_callers`: past it, the caller seen least recently is forgotten (its
// bucket was most likely full again anyway). Nobody shares a bucket with anybody else, so a flood
// of new callers cannot drain the budget of the ones already known.
#pragma once

#include <list>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
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
  RateLimiter(double per_second, int burst, size_t max_callers = 100000)
      : per_second_(per_second), burst_(burst), max_callers_(max_callers) {}

  RateDecision Take(const std::string& caller, absl::Time now);

  size_t callers() const;

 private:
  struct Bucket {
    std::string caller;
    double tokens = 0;
    absl::Time updated;
  };
  const double per_second_;
  const int burst_;
  const size_t max_callers_;
  mutable absl::Mutex mu_;
  // Most recently used first.
  std::list<Bucket> order_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::list<Bucket>::iterator> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::gateway
