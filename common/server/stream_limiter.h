// Bounds the streams one user holds open at once (notification watches, segment exports,
// imports): each holds a server thread for its whole life, so without a bound one client could
// hold them all.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace crm::server {

// Streams one user may hold open at once on one replica of a service, and all users together
// (half of the default 64 RPC threads, so unary calls always have threads left).
inline constexpr int kMaxStreamsPerUser = 8;
inline constexpr int kMaxStreamsInAll = 32;

class StreamLimiter final {
 public:
  StreamLimiter(int max_per_user, int max_in_all)
      : max_per_user_(max_per_user), max_in_all_(max_in_all) {}

  // One open stream; closing it (destroying the lease) frees the slot.
  class Lease final {
   public:
    Lease(Lease&& other) noexcept : limiter_(other.limiter_), key_(std::move(other.key_)) {
      other.limiter_ = nullptr;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (limiter_ != nullptr) limiter_->Release(key_);
    }

   private:
    friend class StreamLimiter;
    Lease(StreamLimiter* limiter, std::string key) : limiter_(limiter), key_(std::move(key)) {}
    StreamLimiter* limiter_;
    std::string key_;
  };

  // RESOURCE_EXHAUSTED when the user already has max_per_user streams open, or everyone together
  // max_in_all.
  absl::StatusOr<Lease> Acquire(const std::string& tenant, const std::string& user);

  int max_per_user() const { return max_per_user_; }

 private:
  void Release(const std::string& key);

  const int max_per_user_;
  const int max_in_all_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, int> open_ ABSL_GUARDED_BY(mu_);
  int open_in_all_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::server
