// Where a verifier's keys come from: a fixed set (a secret or a PEM key from the flags), or a JWKS
// file that is read again when it changes, so an identity provider's key rotation reaches every
// process without a restart (mount the provider's published JWKS as a file, refreshed outside).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/keys.h"

namespace crm::auth {

class KeySource final {
 public:
  static std::shared_ptr<KeySource> Fixed(std::vector<VerificationKey> keys);
  // Fails when the file cannot be read or holds no usable key.
  static absl::StatusOr<std::shared_ptr<KeySource>> JwksFile(std::string path);

  // The keys to check a token with. A JWKS file is looked at (stat) at most once a second, and
  // read again when its size or modification time changed; a file that became unreadable or
  // malformed keeps the keys it last had (and says so in the log).
  std::shared_ptr<const KeySet> Keys() const;

 private:
  KeySource(std::string path, std::shared_ptr<const KeySet> keys)
      : path_(std::move(path)), keys_(std::move(keys)) {}
  void MaybeReload() const;

  const std::string path_;  // "" for a fixed set
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const KeySet> keys_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time checked_ ABSL_GUARDED_BY(mu_);
  mutable int64_t mtime_ns_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t size_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace crm::auth
