// All SQL over tasks: create, read, list, update, delete, the names of their contacts and
// companies kept from the contacts service's events, and tasks made from other services' events.
// Every write appends its event to the outbox in the same transaction.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/filter.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/fields/unique_values.h"
#include "common/fields/write_guard.h"
#include "crm/tasks/v1/task.pb.h"

namespace crm::tasks {

struct TaskPage {
  std::vector<v1::Task> items;
  bool more = false;
};

// A change to a task as the service's rules decide it: the task after, and what changed.
using TaskMutation =
    std::function<absl::StatusOr<std::pair<v1::Task, std::vector<std::string>>>(const v1::Task&)>;

class TaskStore final {
 public:
  // `reminder_armed` is called after a commit that armed a reminder, with its time (so the
  // scheduler can wake up early). Deleted tasks free their unique custom field values in `unique`.
  TaskStore(db::Pool& pool, events::Outbox& outbox, const fields::UniqueValues& unique,
            std::function<void(absl::Time)> reminder_armed = nullptr)
      : pool_(pool), outbox_(outbox), unique_(unique), reminder_armed_(std::move(reminder_armed)) {}

  // A retry with the same request_id (by the same creator) returns the first task. `guard` runs
  // once the task is written (the custom field checks), as on UpdateTask.
  absl::StatusOr<v1::Task> CreateTask(const std::string& tenant, const v1::Task& task,
                                      const std::string& actor, const std::string& request_id,
                                      absl::Time deadline,
                                      const fields::WriteGuard& guard = nullptr);
  // Inside an event's transaction: creates the task unless one with `origin_key` exists;
  // returns whether it did.
  absl::StatusOr<bool> CreateTaskFromEvent(db::Transaction& tx, const std::string& tenant,
                                           const v1::Task& task, const std::string& origin_key);
  absl::StatusOr<v1::Task> GetTask(const std::string& tenant, const std::string& id,
                                   absl::Time deadline);
  // `filter` placeholders start at $4; `order_sql` from TaskOrderBy().
  absl::StatusOr<TaskPage> ListTasks(const std::string& tenant, const std::string& after_id,
                                     int64_t offset, int page_size, const api::SqlFilter& filter,
                                     const std::string& order_sql, absl::Time deadline);
  // Locks the task, applies `mutate` and writes the result with its event.
  absl::StatusOr<v1::Task> UpdateTask(const std::string& tenant, const std::string& id,
                                      const std::string& actor, const TaskMutation& mutate,
                                      absl::Time deadline,
                                      const fields::WriteGuard& guard = nullptr);
  absl::Status DeleteTask(const std::string& tenant, const std::string& id,
                          const std::string& actor,
                          const std::function<absl::Status(const v1::Task&)>& check,
                          absl::Time deadline);

  // Followers of the contacts service: names shown on tasks, and merges.
  void QueueContactName(db::Transaction& tx, const std::string& tenant,
                        const std::string& contact_id, const std::string& display_name,
                        const std::string& company_id);
  void QueueCompanyName(db::Transaction& tx, const std::string& tenant,
                        const std::string& company_id, const std::string& display_name);
  // Tasks of a merged-away contact now point at the winner (each with a TaskUpdated event).
  absl::Status RepointContact(db::Transaction& tx, const std::string& tenant,
                              const std::string& loser_id, const std::string& winner_id);

 private:
  void Armed(db::Transaction& tx, const v1::Task& task, bool armed);

  db::Pool& pool_;
  events::Outbox& outbox_;
  const fields::UniqueValues& unique_;
  std::function<void(absl::Time)> reminder_armed_;
};

}  // namespace crm::tasks
