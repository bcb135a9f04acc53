// Scheduled reports: a tenant asks for a report every week, month, quarter or year; each run
// reports the period that just ended, is stored, and emits ReportRunCompleted. Exactly once per
// period with any number of replicas: due schedules are claimed with FOR UPDATE SKIP LOCKED, and
// a run is unique per (schedule, period).
#pragma once

#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/events/outbox.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "services/reporting/report_engine.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace crm::reporting {

class ScheduleStore final {
 public:
  ScheduleStore(db::Pool& pool, ReportEngine& engine) : pool_(pool), engine_(engine) {}

  // The first run is at the end of the period running now (local midnight).
  absl::StatusOr<v1::ReportSchedule> Create(const std::string& tenant,
                                            const v1::ReportSchedule& schedule, absl::Time now,
                                            absl::Time deadline);
  absl::StatusOr<std::vector<v1::ReportSchedule>> List(const std::string& tenant, int64_t offset,
                                                       int limit, absl::Time deadline);
  absl::Status Delete(const std::string& tenant, const std::string& id, absl::Time deadline);
  // Newest first, before `before_id` when set.
  absl::StatusOr<std::pair<std::vector<v1::ReportRun>, bool>> ListRuns(
      const std::string& tenant, const std::string& schedule_id, const std::string& before_id,
      int page_size, absl::Time deadline);

 private:
  db::Pool& pool_;
  ReportEngine& engine_;
};

struct ReportSchedulerOptions {
  absl::Duration interval = absl::Seconds(30);
};

class ReportScheduler final {
 public:
  ReportScheduler(db::Pool& pool, ReportEngine& engine, events::Outbox& outbox,
                  prometheus::Registry* registry, ReportSchedulerOptions options = {});
  ~ReportScheduler();

  void Start();
  void Stop();
  // Runs every due schedule this replica can claim as of `now`; returns the runs it stored.
  absl::StatusOr<int> RunDue(absl::Time now);

 private:
  db::Pool& pool_;
  ReportEngine& engine_;
  events::Outbox& outbox_;
  const ReportSchedulerOptions options_;
  std::thread thread_;
  absl::Notification stop_;
  prometheus::Counter* runs_ = nullptr;
};

}  // namespace crm::reporting
