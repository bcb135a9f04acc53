#include "common/server/wakeups.h"

namespace crm::server {

void Wakeups::Wait::Fire(bool signalled) {
  Wake wake;
  {
    absl::MutexLock lock(&mu_);
    wake = std::move(wake_);
    wake_ = nullptr;
  }
  if (wake) executor_.Post([wake = std::move(wake), signalled] { wake(signalled); });
}

Wakeups::Wakeups(Executor& executor) : executor_(executor), thread_([this] { Run(); }) {}

Wakeups::~Wakeups() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
  // Whoever still waits is woken, so that its stream can finish.
  Signal();
  absl::MutexLock lock(&mu_);
  while (!timed_.empty()) {
    timed_.top().wait->Fire();
    timed_.pop();
  }
}

std::shared_ptr<Wakeups::Wait> Wakeups::WaitUntil(absl::Time deadline, Wake wake) {
  std::shared_ptr<Wait> wait(new Wait(executor_, std::move(wake)));
  absl::MutexLock lock(&mu_);
  timed_.push({deadline, wait});
  // Waits that ended by their deadline stay in the signal list until the next Signal(): drop
  // them now and then, so a quiet outbox does not let the list grow.
  if (signalled_.size() > 1024 && signalled_.size() > 2 * timed_.size()) {
    std::erase_if(signalled_, [](const std::weak_ptr<Wait>& w) { return w.expired(); });
  }
  signalled_.push_back(wait);
  return wait;
}

void Wakeups::Signal() {
  std::vector<std::weak_ptr<Wait>> waiting;
  {
    absl::MutexLock lock(&mu_);
    waiting.swap(signalled_);
  }
  for (auto& weak : waiting) {
    if (auto wait = weak.lock()) wait->Fire(/*signalled=*/true);
  }
}

void Wakeups::Run() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    while (!timed_.empty() && timed_.top().deadline <= now) {
      std::shared_ptr<Wait> wait = timed_.top().wait;
      timed_.pop();
      mu_.Unlock();
      wait->Fire();
      mu_.Lock();
    }
    const absl::Time next = timed_.empty() ? now + absl::Seconds(1) : timed_.top().deadline;
    // Woken early by a new, earlier deadline or by stopping.
    const absl::Time earliest = next;
    auto due = [this, earliest]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || (!timed_.empty() && timed_.top().deadline < earliest);
    };
    mu_.AwaitWithDeadline(absl::Condition(&due), next);
  }
}

}  // namespace crm::server
