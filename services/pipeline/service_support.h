// Helpers shared by the pipeline service's RPC handlers.
#pragma once

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/request_fields.h"
#include "common/api/resource_name.h"
#include "common/auth/authenticator.h"
#include "common/ids/uuid.h"

namespace crm::pipeline {

// The id in "prefix{uuid}" (INVALID_ARGUMENT naming `field` otherwise).
inline absl::StatusOr<std::string> ParseId(const std::string& name, absl::string_view prefix,
                                           absl::string_view field) {
  return api::ParseResourceId(name, prefix, field);
}

inline absl::Status CheckCanChange(const auth::Principal& caller, const std::string& owner) {
  if (caller.CanChangeOwnedBy(owner)) return absl::OkStatus();
  return absl::PermissionDeniedError("reps change only the deals they own");
}

using api::CheckEtag;  // one etag rule everywhere (common/api/request_fields.h)

}  // namespace crm::pipeline
