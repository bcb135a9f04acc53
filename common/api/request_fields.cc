#include "common/api/request_fields.h"

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"

namespace crm::api {

absl::Status ValidateRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.size() > kMaxRequestIdChars) {
    return InvalidField(field, absl::StrCat("at most ", kMaxRequestIdChars, " characters"));
  }
  for (char c : request_id) {
    if (c <= ' ' || c > '~') return InvalidField(field, "printable ASCII without spaces only");
  }
  return absl::OkStatus();
}

absl::Status CheckEtag(absl::string_view client_etag, absl::string_view current_etag) {
  if (client_etag.empty() || client_etag == current_etag) return absl::OkStatus();
  return absl::AbortedError(
      "etag mismatch: the record changed since you read it; read it again and retry");
}

}  // namespace crm::api
