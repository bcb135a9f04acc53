// Fires each task reminder at its time, exactly once, as a notification for the assignee (with
// a webhook delivery per registered URL and a ReminderFired event, all in one transaction).
//
// Exactly once with any number of replicas and across restarts: a reminder is armed by a flag on
// its task; a replica claims due ones with FOR UPDATE SKIP LOCKED and clears the flag in the
// transaction that writes the notification. Reminders that came due while every replica was
// down fire on start-up, marked late. Each replica sleeps until the earliest armed reminder (at
// most `max_sleep`), and is woken early by its own writes that arm an earlier one.
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"

namespace prometheus {
class Registry;
class Histogram;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace crm::tasks {

struct ReminderSchedulerOptions {
  // Reminders claimed per transaction.
  int batch_size = 200;
  // Longest sleep: picks up reminders armed by other replicas.
  absl::Duration max_sleep = absl::Seconds(1);
  // A reminder firing later than this after its time says it is late.
  absl::Duration late_after = absl::Minutes(1);
  // Pause before looking again when due reminders are another replica's or a pass failed.
  absl::Duration retry_pause = absl::Milliseconds(50);
};

class ReminderScheduler final {
 public:
  // After a commit that created notifications, `notifications` (if not null) is announced (live
  // watchers) and `deliveries_queued` (if set) is called (the webhook dispatcher).
  ReminderScheduler(db::Pool& pool, events::Outbox& outbox, events::Notifier* notifications,
                    std::function<void()> deliveries_queued, prometheus::Registry* registry,
                    ReminderSchedulerOptions options = {});
  ~ReminderScheduler();

  void Start();
  void Stop();
  // A reminder was armed for `at`: wake up then if that is earlier than planned.
  void WakeAt(absl::Time at);
  // Fires every due reminder this replica can claim; returns how many it fired.
  absl::StatusOr<int> FireDue();

 private:
  void Run();
  absl::StatusOr<int> FireBatch();
  // The earliest armed reminder's time, or InfiniteFuture.
  absl::StatusOr<absl::Time> NextDue();

  db::Pool& pool_;
  events::Outbox& outbox_;
  events::Notifier* notifications_;
  const std::function<void()> deliveries_queued_;
  const ReminderSchedulerOptions options_;
  std::thread thread_;
  absl::Mutex mu_;
  absl::CondVar wake_;
  absl::Time planned_wake_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  prometheus::Histogram* delay_ = nullptr;
  prometheus::Family<prometheus::Counter>* fired_ = nullptr;
};

}  // namespace crm::tasks
