// Wakes streams that wait for news without holding a thread: each waiter is a callback, run on
// the executor at its deadline or at the next Signal() (the outbox changed), whichever comes
// first. One timer thread serves every waiter of the process.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/executor.h"

namespace crm::server {

class Wakeups final {
 public:
  explicit Wakeups(Executor& executor);
  ~Wakeups();

  // `wake` learns whether Signal() woke it (rather than the deadline or Fire()).
  using Wake = std::function<void(bool signalled)>;

  // A pending wake-up; Fire() wakes it early (a cancelled stream). Fires once.
  class Wait {
   public:
    void Fire(bool signalled = false);

   private:
    friend class Wakeups;
    Wait(Executor& executor, Wake wake) : executor_(executor), wake_(std::move(wake)) {}
    Executor& executor_;
    absl::Mutex mu_;
    Wake wake_ ABSL_GUARDED_BY(mu_);
  };

  // `wake` runs once on the executor: at `deadline`, at the next Signal(), or at Fire().
  std::shared_ptr<Wait> WaitUntil(absl::Time deadline, Wake wake);

  // Wakes everyone waiting now.
  void Signal();

 private:
  void Run();

  struct Timed {
    absl::Time deadline;
    std::shared_ptr<Wait> wait;
    bool operator>(const Timed& other) const { return deadline > other.deadline; }
  };

  Executor& executor_;
  absl::Mutex mu_;
  std::priority_queue<Timed, std::vector<Timed>, std::greater<Timed>> timed_ ABSL_GUARDED_BY(mu_);
  std::vector<std::weak_ptr<Wait>> signalled_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace crm::server
