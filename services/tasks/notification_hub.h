// Delivers fired reminders to this replica's live watches (WatchNotifications).
//
// One reader for all watches: it follows the outbox's ReminderFired events (woken when a reminder
// fires on any replica, and once a second as a safety net) and hands each notification to the
// watches of its recipient. A thousand idle watches therefore cost no query and no thread, and a
// notification is read once whatever the number of watchers. The outbox cursor never skips an
// event, so a notification whose transaction commits late is still delivered, and none twice.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/events/notifier.h"
#include "common/events/outbox_reader.h"
#include "crm/tasks/v1/notification.pb.h"

namespace crm::tasks {

struct NotificationHubOptions {
  absl::Duration safety_poll = absl::Seconds(1);
  int batch_size = 500;
};

class NotificationHub final {
 public:
  // `fired` is the notifier the reminder scheduler announces fired reminders on.
  NotificationHub(db::Pool& pool, const events::Notifier& fired,
                  NotificationHubOptions options = {});
  ~NotificationHub();

  void Start();
  void Stop();

  using Deliver = std::function<void(const v1::Notification&)>;

  // A watch: `deliver` gets every notification for (tenant, user) the hub reads while the
  // registration lives, on the hub's thread (keep it short). Destroying the registration stops
  // delivery; no call of `deliver` is in progress once the destructor returns.
  class Registration final {
   public:
    ~Registration();

   private:
    friend class NotificationHub;
    Registration(NotificationHub* hub, std::string key) : hub_(hub), key_(std::move(key)) {}
    NotificationHub* hub_;
    std::string key_;
  };
  std::unique_ptr<Registration> Add(const std::string& tenant, const std::string& user,
                                    Deliver deliver);

  // True once the hub's cursor is placed: watches added after this see what fires next.
  bool live() const { return live_; }

 private:
  void Run();
  void Remove(const std::string& key, const Registration* registration);

  events::OutboxReader reader_;
  const events::Notifier& fired_;
  const NotificationHubOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> live_{false};
  std::thread thread_;
  absl::Mutex mu_;
  // (tenant, user) -> watches.
  absl::flat_hash_map<std::string, absl::flat_hash_map<const Registration*, Deliver>> watches_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::tasks
