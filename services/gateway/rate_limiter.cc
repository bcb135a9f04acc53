#include "services/gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace crm::gateway {
namespace {
constexpr char kOverflow[] = "\x01overflow";
}  // namespace

RateDecision RateLimiter::Take(const std::string& caller, absl::Time now) {
  absl::MutexLock lock(&mu_);
  // Forget callers whose buckets have long been full again, so memory stays bounded.
  if (now - last_sweep_ > absl::Minutes(1)) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.updated > absl::Minutes(5) ? buckets_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }
  // A flood of distinct callers must not grow memory without bound: past the cap they share one
  // bucket (and are limited together).
  constexpr size_t kMaxCallers = 100000;
  const std::string key =
      buckets_.size() >= kMaxCallers && buckets_.count(caller) == 0 ? kOverflow : caller;
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& bucket = it->second;
  if (fresh) {
    bucket.tokens = burst_;
  } else {
    bucket.tokens = std::min<double>(
        burst_, bucket.tokens + absl::ToDoubleSeconds(now - bucket.updated) * per_second_);
  }
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

}  // namespace crm::gateway
