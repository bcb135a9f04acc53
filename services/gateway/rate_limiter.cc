#include "services/gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace crm::gateway {

RateDecision RateLimiter::Take(const std::string& caller, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto found = buckets_.find(caller);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_callers_ && !order_.empty()) {
      buckets_.erase(order_.back().caller);
      order_.pop_back();
    }
    order_.push_front(Bucket{caller, static_cast<double>(burst_), now});
    found = buckets_.emplace(caller, order_.begin()).first;
  } else {
    order_.splice(order_.begin(), order_, found->second);  // now the most recent
  }
  Bucket& bucket = *found->second;
  bucket.tokens = std::min<double>(
      burst_,
      bucket.tokens + absl::ToDoubleSeconds(std::max(now - bucket.updated, absl::ZeroDuration())) *
                          per_second_);
  bucket.updated = now;
  RateDecision decision;
  decision.limit = burst_;
  decision.allowed = bucket.tokens >= 1;
  if (decision.allowed) bucket.tokens -= 1;
  decision.remaining = static_cast<int>(std::floor(bucket.tokens));
  decision.reset_seconds =
      static_cast<int>(std::ceil((burst_ - bucket.tokens) / std::max(per_second_, 1e-9)));
  return decision;
}

size_t RateLimiter::callers() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace crm::gateway
