// Wakes event-stream readers when the outbox changes: one LISTEN connection per process, shared
// by every subscriber. If the connection drops it reconnects with backoff; readers keep a slow
// poll as a safety net, so a lost notification delays an event but never loses it.
//
// Writers call Announce() after they commit events: it wakes this process's readers at once and
// has a background connection send one NOTIFY for other replicas, coalescing bursts (at most one
// per kAnnounceInterval). The process's own NOTIFYs come back to its listener and are ignored:
// its readers were woken already. NOTIFY is deliberately not part of the writers' transactions:
// PostgreSQL serialises the commits of notifying transactions on one lock, which would cap write
// throughput at one commit per flush.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

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

  // Each NOTIFY takes a transaction id and wakes every listening backend and process; other
  // replicas' readers learn of a commit at most this much later (local readers at once).
  static constexpr absl::Duration kAnnounceInterval = absl::Milliseconds(5);

  // After a commit that wrote events: wakes local readers and schedules a NOTIFY.
  void Announce();

  // Runs `listener` after every change of generation() (on the thread that saw it: keep it
  // short). Call before Start().
  void OnChange(std::function<void()> listener) { listeners_.push_back(std::move(listener)); }

  // A counter that grows with every notification received.
  uint64_t generation() const;
  // Waits until generation() differs from `seen`, `timeout` passes, or Stop(); returns the
  // current generation.
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const;

 private:
  void Run();
  void RunAnnouncer();
  // Moves the generation on and tells the listeners.
  void Changed();

  const std::string conninfo_;
  const std::string channel_;
  std::thread thread_;
  std::thread announcer_;
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool announce_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> announcer_backend_pid_{0};  // whose notifications are our own
  std::vector<std::function<void()>> listeners_;
};

}  // namespace crm::events
