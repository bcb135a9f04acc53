// The request fields every service reads the same way: idempotency keys and etags.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::api {

inline constexpr size_t kMaxRequestIdChars = 64;

// A `request_id` (or `import_id`): empty (no idempotency), or up to kMaxRequestIdChars of
// printable ASCII without spaces; INVALID_ARGUMENT naming `field` otherwise. Keys are scoped per
// (tenant, caller) by the stores.
absl::Status ValidateRequestId(absl::string_view request_id,
                               absl::string_view field = "request_id");

// AIP-154: a client etag, when given, must equal the record's current one (ABORTED otherwise:
// read again and retry).
absl::Status CheckEtag(absl::string_view client_etag, absl::string_view current_etag);

}  // namespace crm::api
