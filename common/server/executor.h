// A fixed pool of worker threads for whatever in an RPC may block: the domain code of unary RPCs
// (common/server/rpc.h) and the database steps of streams between two messages. gRPC's own threads
// only start and finish operations, so a slow database or a long export never stalls gRPC itself.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace crm::server {

class Executor final {
 public:
  // `max_queued`: how many tasks TryPost lets wait for a thread.
  explicit Executor(int threads, size_t max_queued = 10000);
  ~Executor();  // runs what was posted, then joins
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Always queues (the steps of streams already admitted).
  void Post(std::function<void()> task);
  // Queues unless max_queued tasks already wait (new work to refuse when the process is behind).
  bool TryPost(std::function<void()> task);

 private:
  void Run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace crm::server
