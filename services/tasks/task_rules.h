// Validation of tasks, their update masks and their reminder's state. Pure; unit-tested.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/tasks/v1/task.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace crm::tasks {

inline constexpr absl::string_view kTaskPrefix = "tasks/";

// Stored text of the enums ("high", "in_progress") and back; UNSPECIFIED maps to the defaults.
std::string PriorityToText(v1::TaskPriority priority);
v1::TaskPriority PriorityFromText(absl::string_view text);
std::string StatusToText(v1::TaskStatus status);
v1::TaskStatus StatusFromText(absl::string_view text);
// Accepts HIGH, high and TASK_PRIORITY_HIGH (filters); "" when unknown.
std::string PriorityLiteral(absl::string_view literal);
std::string StatusLiteral(absl::string_view literal);

// An IANA zone name this process knows ("Asia/Yerevan", "UTC"): letters, digits and / _ - +
// only, so never a file path.
bool IsZoneName(const std::string& zone);

// Open or in progress: a task whose reminder may still fire.
bool IsActive(v1::TaskStatus status);

// Checks a task's writable fields (errors name "task.<field>") and fills defaults: priority
// NORMAL, status OPEN, time zone UTC.
absl::Status NormalizeTask(v1::Task& task);

// Applies `mask` (AIP-134: empty means the fields set in `patch`, "*" every writable field) to
// `target`; returns the names of the fields that changed.
absl::StatusOr<std::vector<std::string>> ApplyTaskMask(const v1::Task& patch,
                                                       const google::protobuf::FieldMask& mask,
                                                       v1::Task& target);

// Whether the reminder is still to fire after a change from `before` to `after` at `now`:
// never for a done or cancelled task; re-armed when reminder_time moves; on a reopened task
// only when its time is still ahead.
bool ReminderArmed(const v1::Task& before, bool was_armed, const v1::Task& after, absl::Time now);

}  // namespace crm::tasks
