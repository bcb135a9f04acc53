// Record ids: UUIDv7 (RFC 9562), time-ordered so the primary key index stays append-mostly and
// "ORDER BY id" is creation order, which makes keyset pagination stable and cheap.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace crm::ids {

// A new UUIDv7 in canonical lower-case form ("0190c3d2-....").
std::string NewUuidV7();

// True for a canonical UUID string (any version), so bad ids fail before reaching SQL.
bool IsCanonicalUuid(absl::string_view s);

}  // namespace crm::ids
