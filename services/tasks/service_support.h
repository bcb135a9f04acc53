// Helpers shared by the tasks service's RPC handlers.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/request_fields.h"
#include "common/api/resource_name.h"
#include "common/auth/authenticator.h"
#include "common/ids/uuid.h"
#include "crm/tasks/v1/task.pb.h"

namespace crm::tasks {

// The id in "prefix{uuid}" (INVALID_ARGUMENT naming `field` otherwise).
inline absl::StatusOr<std::string> ParseId(const std::string& name, absl::string_view prefix,
                                           absl::string_view field) {
  return api::ParseResourceId(name, prefix, field);
}

// Reps change the tasks assigned to them or created by them; managers and admins all.
inline absl::Status CheckCanChange(const auth::Principal& caller, const v1::Task& task) {
  if (caller.CanChangeOwnedBy(task.assignee()) || task.creator() == caller.user) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError("reps change only tasks assigned to them or created by them");
}

using api::CheckEtag;  // one etag rule everywhere (common/api/request_fields.h)

}  // namespace crm::tasks
