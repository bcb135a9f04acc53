// Wakes event-stream readers when the outbox changes: one LISTEN connection per process, shared
// by every subscriber. If the connection drops it reconnects with backoff; readers keep a slow
// poll as a safety net, so a lost notification delays an event but never loses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::events {

class Notifier final {
 public:
  Notifier(std::string conninfo, std::string channel);
  ~Notifier();

  void Start();
  void Stop();

  // A counter that grows with every notification received.
  uint64_t generation() const;
  // Waits until generation() differs from `seen`, `timeout` passes, or Stop(); returns the
  // current generation.
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  void Run();

  const std::string conninfo_;
  const std::string channel_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::events
