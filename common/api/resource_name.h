// Resource names as clients write them ("deals/0190..."): the collection prefix and a UUID.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// True for "prefix{canonical uuid}".
bool IsResourceName(absl::string_view name, absl::string_view prefix);

// The id in "prefix{uuid}"; INVALID_ARGUMENT naming `field` when empty or malformed.
absl::StatusOr<std::string> ParseResourceId(absl::string_view name, absl::string_view prefix,
                                            absl::string_view field);

}  // namespace crm::api
