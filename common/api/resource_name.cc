#include "common/api/resource_name.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/ids/uuid.h"

namespace crm::api {

bool IsResourceName(absl::string_view name, absl::string_view prefix) {
  return absl::StartsWith(name, prefix) &&
         ids::IsCanonicalUuid(std::string(name.substr(prefix.size())));
}

absl::StatusOr<std::string> ParseResourceId(absl::string_view name, absl::string_view prefix,
                                            absl::string_view field) {
  if (name.empty()) return InvalidField(field, "required");
  if (!IsResourceName(name, prefix)) {
    return InvalidField(field, absl::StrCat("must look like ", prefix, "{uuid}"));
  }
  return std::string(name.substr(prefix.size()));
}

}  // namespace crm::api
