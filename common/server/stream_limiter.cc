#include "common/server/stream_limiter.h"

#include "absl/strings/str_cat.h"

namespace crm::server {
namespace {

void Decrement(absl::flat_hash_map<std::string, int>& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it != counts.end() && --it->second <= 0) counts.erase(it);
}

}  // namespace

absl::StatusOr<StreamLimiter::Lease> StreamLimiter::Acquire(const std::string& tenant,
                                                            const std::string& user) {
  // Tenant and user are both client-chosen strings inside a verified token: the length prefix
  // keeps ("a:b", "c") and ("a", "b:c") apart.
  std::string user_key = absl::StrCat(tenant.size(), ":", tenant, user);
  absl::MutexLock lock(&mu_);
  if (open_ >= limits_.in_all) {
    return absl::ResourceExhaustedError(absl::StrCat("this replica has ", limits_.in_all,
                                                     " streams open, its most: try again shortly"));
  }
  const auto tenant_it = tenants_.find(tenant);
  if (tenant_it != tenants_.end() && tenant_it->second >= limits_.per_tenant) {
    return absl::ResourceExhaustedError(
        absl::StrCat("your organisation has ", limits_.per_tenant, " streams open here, its most"));
  }
  const auto user_it = users_.find(user_key);
  if (user_it != users_.end() && user_it->second >= limits_.per_user) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many open streams for this user (at most ", limits_.per_user, "): close one first"));
  }
  ++users_[user_key];
  ++tenants_[tenant];
  ++open_;
  return Lease(this, std::move(user_key), tenant);
}

void StreamLimiter::Release(const std::string& user, const std::string& tenant) {
  absl::MutexLock lock(&mu_);
  Decrement(users_, user);
  Decrement(tenants_, tenant);
  --open_;
}

int StreamLimiter::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

}  // namespace crm::server
