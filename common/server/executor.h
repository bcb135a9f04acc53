// A fixed pool of worker threads for the blocking parts of streaming RPCs (database reads and
// writes between two messages). gRPC's own threads only start and finish operations; whatever
// may block runs here, so a slow database or a long export never stalls gRPC itself.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace crm::server {

class Executor final {
 public:
  explicit Executor(int threads);
  ~Executor();  // runs what was posted, then joins
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Post(std::function<void()> task);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace crm::server
