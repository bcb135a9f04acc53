// The fields clients may filter and order tasks on (AIP-160, AIP-132), mapped to SQL over
// tasks.tasks (alias t).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::tasks {

// `caller` stands in for the value "me" of assignee and creator; `time_zone` (validated, IANA)
// is what `due_today` counts days in. INVALID_ARGUMENT on field "time_zone" for an unknown zone.
absl::StatusOr<api::FilterSchema> TaskFilterSchema(const std::string& caller,
                                                   const std::string& time_zone);

// SQL for an AIP-132 order_by ("t.due_time ASC NULLS LAST, t.id"); empty input gives "t.id".
absl::StatusOr<std::string> TaskOrderBy(absl::string_view order_by);
// What TaskOrderBy sorts on (name -> SQL); custom fields come on top in ListTasks
// (CustomFieldsApi::CompileOrderBy).
const std::map<std::string, std::string>& TaskSortColumns();

}  // namespace crm::tasks
