#include "services/tasks/task_filters.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/api/errors.h"
#include "common/api/order_by.h"
#include "services/tasks/task_rules.h"

namespace crm::tasks {
namespace {

std::optional<std::string> NonEmpty(std::string text) {
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

absl::StatusOr<api::FilterSchema> TaskFilterSchema(const std::string& caller,
                                                   const std::string& time_zone) {
  const std::string zone = time_zone.empty() ? "UTC" : time_zone;
  // Spliced into SQL, so only a checked zone name (letters, digits, / _ - +) gets here.
  if (!IsZoneName(zone)) {
    return api::InvalidField("time_zone", "an IANA time zone such as Asia/Yerevan");
  }
  using api::FilterType;
  auto me = [caller](absl::string_view value) -> std::optional<std::string> {
    return value == "me" ? caller : std::string(value);
  };
  const std::string today =
      absl::StrCat("(t.due_time IS NOT NULL AND (t.due_time AT TIME ZONE '", zone,
                   "')::date = (now() AT TIME ZONE '", zone, "')::date)");
  return api::FilterSchema{{
      {"title", "t.title", FilterType::kString, nullptr},
      {"assignee", "t.assignee", FilterType::kEnum, me},
      {"creator", "t.creator", FilterType::kEnum, me},
      {"status", "t.status", FilterType::kEnum,
       [](absl::string_view v) { return NonEmpty(StatusLiteral(v)); }},
      {"priority", "t.priority", FilterType::kEnum,
       [](absl::string_view v) { return NonEmpty(PriorityLiteral(v)); }},
      {"contact", "('contacts/' || t.contact_id::text)", FilterType::kString, nullptr},
      {"company", "('companies/' || t.company_id::text)", FilterType::kString, nullptr},
      {"deal", "('deals/' || t.deal_id::text)", FilterType::kString, nullptr},
      {"due_time", "t.due_time", FilterType::kTimestamp, nullptr},
      {"reminder_time", "t.reminder_time", FilterType::kTimestamp, nullptr},
      {"create_time", "t.create_time", FilterType::kTimestamp, nullptr},
      {"update_time", "t.update_time", FilterType::kTimestamp, nullptr},
      {"overdue",
       "(t.due_time IS NOT NULL AND t.due_time < now() AND t.status IN ('open', 'in_progress'))",
       FilterType::kBool, nullptr},
      {"due_today", today, FilterType::kBool, nullptr},
  }};
}

const std::map<std::string, std::string>& TaskSortColumns() {
  static const auto* columns = new std::map<std::string, std::string>{
      {"due_time", "t.due_time"},
      {"priority",
       "(CASE t.priority WHEN 'low' THEN 1 WHEN 'normal' THEN 2 WHEN 'high' THEN 3 ELSE 4 END)"},
      {"create_time", "t.create_time"},
      {"update_time", "t.update_time"}};
  return *columns;
}

absl::StatusOr<std::string> TaskOrderBy(absl::string_view order_by) {
  return api::OrderBySql(order_by, TaskSortColumns(), "t.id");
}

}  // namespace crm::tasks
