// Bounds the streams held open at once on one replica (event streams, notification watches,
// exports, imports, the gateway's server-sent events): per user, per tenant and in all. Streams
// hold no thread while they wait (they are served by reactors), but each holds memory and a share
// of the replica's attention: without bounds one user, or one tenant, could take it all.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace crm::server {

struct StreamLimits {
  int per_user = 8;       // a few browser tabs and devices
  int per_tenant = 5000;  // a whole sales floor watching its notifications
  int in_all = 20000;     // what one replica holds (a few KB each)
};

class StreamLimiter final {
 public:
  explicit StreamLimiter(StreamLimits limits = {}) : limits_(limits) {}

  // One open stream; closing it (destroying the lease) frees the slot.
  class Lease final {
   public:
    Lease(Lease&& other) noexcept
        : limiter_(other.limiter_),
          user_(std::move(other.user_)),
          tenant_(std::move(other.tenant_)) {
      other.limiter_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (limiter_ != nullptr) limiter_->Release(user_, tenant_);
    }

   private:
    friend class StreamLimiter;
    Lease(StreamLimiter* limiter, std::string user, std::string tenant)
        : limiter_(limiter), user_(std::move(user)), tenant_(std::move(tenant)) {}
    StreamLimiter* limiter_;
    std::string user_;
    std::string tenant_;
  };

  // RESOURCE_EXHAUSTED, saying which bound, when the user, the tenant or the replica already has
  // its most streams open.
  absl::StatusOr<Lease> Acquire(const std::string& tenant, const std::string& user);

  const StreamLimits& limits() const { return limits_; }
  int open() const;

 private:
  void Release(const std::string& user, const std::string& tenant);

  const StreamLimits limits_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> users_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> tenants_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::server
