// Background upkeep of a service's outbox: prunes events older than the retention age (one
// replica at a time, by an advisory lock) and exports the backlog metric. Pruning removes a
// prefix of the stream below the in-flight horizon and records where it ended, so a subscriber
// that fell behind gets OUT_OF_RANGE instead of silently missing events.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/db/pool.h"

namespace prometheus {
class Registry;
class Gauge;
}  // namespace prometheus

namespace crm::events {

struct OutboxMaintenanceOptions {
  absl::Duration retention = absl::Hours(24 * 7);
  absl::Duration interval = absl::Minutes(1);
};

class OutboxMaintenance final {
 public:
  OutboxMaintenance(db::Pool& pool, std::string schema, prometheus::Registry* registry,
                    OutboxMaintenanceOptions options);
  ~OutboxMaintenance();

  void Start();
  void Stop();

  // One pass; returns the number of events pruned (0 if another replica holds the lock).
  absl::StatusOr<int64_t> RunOnce();

 private:
  db::Pool& pool_;
  const std::string schema_;
  const OutboxMaintenanceOptions options_;
  std::thread thread_;
  absl::Notification stop_;
  prometheus::Gauge* backlog_ = nullptr;
  prometheus::Gauge* retained_ = nullptr;
};

}  // namespace crm::events
