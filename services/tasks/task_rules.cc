#include "services/tasks/task_rules.h"

#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/api/errors.h"
#include "common/api/field_mask.h"
#include "common/api/resource_name.h"
#include "common/base/status_macros.h"
#include "common/base/time_zone_name.h"
#include "common/ids/uuid.h"

namespace crm::tasks {
namespace {

using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

// The task's custom field values alone, so maps compare by key whatever their order.
v1::Task CustomFieldsOf(const v1::Task& task) {
  v1::Task only;
  *only.mutable_custom_fields() = task.custom_fields();
  return only;
}

// The enum's value name without its prefix, lower case: TASK_STATUS_IN_PROGRESS -> in_progress.
std::string Literal(absl::string_view literal, absl::string_view prefix,
                    const std::set<std::string>& known) {
  std::string text = absl::AsciiStrToLower(literal);
  if (absl::StartsWith(text, prefix)) text = text.substr(prefix.size());
  return known.count(text) > 0 ? text : "";
}

bool SameTime(const v1::Task& a, const v1::Task& b) {
  return a.has_reminder_time() == b.has_reminder_time() &&
         (!a.has_reminder_time() || TimeUtil::TimestampToMicroseconds(a.reminder_time()) ==
                                        TimeUtil::TimestampToMicroseconds(b.reminder_time()));
}

absl::Time ToTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

}  // namespace

std::string PriorityToText(v1::TaskPriority priority) {
  switch (priority) {
    case v1::TASK_PRIORITY_LOW:
      return "low";
    case v1::TASK_PRIORITY_HIGH:
      return "high";
    case v1::TASK_PRIORITY_URGENT:
      return "urgent";
    default:
      return "normal";
  }
}

v1::TaskPriority PriorityFromText(absl::string_view text) {
  if (text == "low") return v1::TASK_PRIORITY_LOW;
  if (text == "high") return v1::TASK_PRIORITY_HIGH;
  if (text == "urgent") return v1::TASK_PRIORITY_URGENT;
  return v1::TASK_PRIORITY_NORMAL;
}

std::string StatusToText(v1::TaskStatus status) {
  switch (status) {
    case v1::TASK_STATUS_IN_PROGRESS:
      return "in_progress";
    case v1::TASK_STATUS_DONE:
      return "done";
    case v1::TASK_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "open";
  }
}

v1::TaskStatus StatusFromText(absl::string_view text) {
  if (text == "in_progress") return v1::TASK_STATUS_IN_PROGRESS;
  if (text == "done") return v1::TASK_STATUS_DONE;
  if (text == "cancelled") return v1::TASK_STATUS_CANCELLED;
  return v1::TASK_STATUS_OPEN;
}

std::string PriorityLiteral(absl::string_view literal) {
  static const auto* known = new std::set<std::string>{"low", "normal", "high", "urgent"};
  return Literal(literal, "task_priority_", *known);
}

std::string StatusLiteral(absl::string_view literal) {
  static const auto* known = new std::set<std::string>{"open", "in_progress", "done", "cancelled"};
  return Literal(literal, "task_status_", *known);
}

bool IsZoneName(const std::string& zone) { return IsIanaZoneName(zone); }

bool IsActive(v1::TaskStatus status) {
  return status == v1::TASK_STATUS_OPEN || status == v1::TASK_STATUS_IN_PROGRESS;
}

absl::Status NormalizeTask(v1::Task& task) {
  task.set_title(std::string(absl::StripAsciiWhitespace(task.title())));
  if (task.title().empty() || task.title().size() > 200) {
    return api::InvalidField("task.title", "required, up to 200 characters");
  }
  if (task.description().size() > 10000) {
    return api::InvalidField("task.description", "up to 10,000 characters");
  }
  if (task.assignee().empty() || task.assignee().size() > 128) {
    return api::InvalidField("task.assignee", "required, up to 128 characters");
  }
  const std::pair<const char*, const std::string*> texts[] = {
      {"task.title", &task.title()},
      {"task.description", &task.description()},
      {"task.assignee", &task.assignee()}};
  for (const auto& [field, text] : texts) {
    if (text->find('\0') != std::string::npos) {
      return api::InvalidField(field, "must not contain NUL characters");
    }
  }
  if (!task.contact().empty() && !api::IsResourceName(task.contact(), "contacts/")) {
    return api::InvalidField("task.contact", "must look like contacts/{uuid}");
  }
  if (!task.company().empty() && !api::IsResourceName(task.company(), "companies/")) {
    return api::InvalidField("task.company", "must look like companies/{uuid}");
  }
  if (!task.deal().empty() && !api::IsResourceName(task.deal(), "deals/")) {
    return api::InvalidField("task.deal", "must look like deals/{uuid}");
  }
  if (!v1::TaskPriority_IsValid(task.priority())) {
    return api::InvalidField("task.priority", "unknown priority");
  }
  if (!v1::TaskStatus_IsValid(task.status())) {
    return api::InvalidField("task.status", "unknown status");
  }
  if (task.priority() == v1::TASK_PRIORITY_UNSPECIFIED) task.set_priority(v1::TASK_PRIORITY_NORMAL);
  if (task.status() == v1::TASK_STATUS_UNSPECIFIED) task.set_status(v1::TASK_STATUS_OPEN);
  if (task.time_zone().empty()) task.set_time_zone("UTC");
  if (!IsZoneName(task.time_zone())) {
    return api::InvalidField("task.time_zone", "an IANA time zone such as Asia/Yerevan");
  }
  for (const auto* ts : {&task.due_time(), &task.reminder_time()}) {
    if (ts->seconds() < 0 || ts->seconds() > TimeUtil::kTimestampMaxSeconds || ts->nanos() < 0 ||
        ts->nanos() > 999999999 || ts->nanos() % 1000 != 0) {
      return api::InvalidField(ts == &task.due_time() ? "task.due_time" : "task.reminder_time",
                               "a time after 1970 in whole microseconds");
    }
  }
  if (task.has_due_time() && task.has_reminder_time() &&
      ToTime(task.reminder_time()) > ToTime(task.due_time())) {
    return api::InvalidField("task.reminder_time", "must not be after due_time");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ApplyTaskMask(const v1::Task& patch,
                                                       const google::protobuf::FieldMask& mask,
                                                       v1::Task& target) {
  static const auto* writable = new std::set<std::string>{
      "title",    "description", "assignee", "contact",       "company",   "deal",
      "priority", "status",      "due_time", "reminder_time", "time_zone", "custom_fields"};
  const v1::Task before = target;
  RETURN_IF_ERROR(api::ApplyUpdateMask(patch, mask, *writable, target).status());
  std::vector<std::string> changed;
  if (!MessageDifferencer::Equals(CustomFieldsOf(before), CustomFieldsOf(target))) {
    changed.push_back("custom_fields");
  }
  auto field_changed = [&](const std::string& path) {
    const auto* field = v1::Task::descriptor()->FindFieldByName(path);
    const auto* reflection = v1::Task::GetReflection();
    if (field->message_type() != nullptr) {
      return reflection->HasField(before, field) != reflection->HasField(target, field) ||
             reflection->GetMessage(before, field).SerializeAsString() !=
                 reflection->GetMessage(target, field).SerializeAsString();
    }
    if (field->enum_type() != nullptr) {
      return reflection->GetEnumValue(before, field) != reflection->GetEnumValue(target, field);
    }
    return reflection->GetString(before, field) != reflection->GetString(target, field);
  };
  for (const std::string& path : *writable) {
    if (path != "custom_fields" && field_changed(path)) changed.push_back(path);
  }
  return changed;
}

bool ReminderArmed(const v1::Task& before, bool was_armed, const v1::Task& after, absl::Time now) {
  if (!IsActive(after.status()) || !after.has_reminder_time()) return false;
  if (!SameTime(before, after)) return true;
  if (!IsActive(before.status())) return ToTime(after.reminder_time()) > now;
  return was_armed;
}

}  // namespace crm::tasks
