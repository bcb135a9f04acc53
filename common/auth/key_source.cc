#include "common/auth/key_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/log/log.h"

namespace crm::auth {
namespace {

constexpr absl::Duration kStatInterval = absl::Seconds(1);

struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
};

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size)};
}

absl::StatusOr<std::shared_ptr<const KeySet>> ReadJwks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the JWKS file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  ASSIGN_OR_RETURN(std::vector<VerificationKey> keys, KeysFromJwks(text.str()));
  return std::make_shared<const KeySet>(std::move(keys));
}

}  // namespace

std::shared_ptr<KeySource> KeySource::Fixed(std::vector<VerificationKey> keys) {
  return std::shared_ptr<KeySource>(
      new KeySource("", std::make_shared<const KeySet>(std::move(keys))));
}

absl::StatusOr<std::shared_ptr<KeySource>> KeySource::JwksFile(std::string path) {
  const FileStamp stamp = StampOf(path);
  ASSIGN_OR_RETURN(std::shared_ptr<const KeySet> keys, ReadJwks(path));
  std::shared_ptr<KeySource> source(new KeySource(std::move(path), std::move(keys)));
  absl::MutexLock lock(&source->mu_);
  source->checked_ = absl::Now();
  source->mtime_ns_ = stamp.mtime_ns;
  source->size_ = stamp.size;
  return source;
}

std::shared_ptr<const KeySet> KeySource::Keys() const {
  if (!path_.empty()) MaybeReload();
  absl::MutexLock lock(&mu_);
  return keys_;
}

void KeySource::MaybeReload() const {
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now - checked_ < kStatInterval) return;
    checked_ = now;
  }
  const FileStamp stamp = StampOf(path_);
  {
    absl::MutexLock lock(&mu_);
    if (stamp.mtime_ns == mtime_ns_ && stamp.size == size_) return;
    mtime_ns_ = stamp.mtime_ns;
    size_ = stamp.size;
  }
  absl::StatusOr<std::shared_ptr<const KeySet>> keys = ReadJwks(path_);
  if (!keys.ok()) {
    spdlog::error("JWKS file {} not reloaded, keeping the previous keys: {}", path_,
                  std::string(keys.status().message()));
    return;
  }
  spdlog::info("JWKS file {} reloaded keys={}", path_, (*keys)->size());
  absl::MutexLock lock(&mu_);
  keys_ = *std::move(keys);
}

}  // namespace crm::auth
