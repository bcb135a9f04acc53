#include "common/server/stream_limiter.h"

#include "absl/strings/str_cat.h"

namespace crm::server {

absl::StatusOr<StreamLimiter::Lease> StreamLimiter::Acquire(const std::string& tenant,
                                                            const std::string& user) {
  // Tenant and user are both client-chosen strings inside a verified token: the length prefix
  // keeps ("a:b", "c") and ("a", "b:c") apart.
  std::string key = absl::StrCat(tenant.size(), ":", tenant, user);
  absl::MutexLock lock(&mu_);
  if (open_in_all_ >= max_in_all_) {
    return absl::ResourceExhaustedError(absl::StrCat("this replica has ", max_in_all_,
                                                     " streams open, its most: try again shortly"));
  }
  int& open = open_[key];
  if (open >= max_per_user_) {
    if (open == 0) open_.erase(key);
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many open streams for this user (at most ", max_per_user_, "): close one first"));
  }
  ++open;
  ++open_in_all_;
  return Lease(this, std::move(key));
}

void StreamLimiter::Release(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(key);
  if (it == open_.end()) return;
  --open_in_all_;
  if (--it->second <= 0) open_.erase(it);
}

}  // namespace crm::server
