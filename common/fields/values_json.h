// Custom field values <-> the jsonb stored on records: {"tier": {"option": "gold"}, ...}, each
// value in proto3 JSON, so SQL reads them as it reads the API (custom_fields->'tier'->>'option').
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/fields/custom_field_rules.h"

namespace crm::fields {

std::string ValuesToJson(const Values& values);
// Replaces `values` with the stored ones; INTERNAL for text that is not such an object.
absl::Status ValuesFromJson(absl::string_view json, Values* values);

}  // namespace crm::fields
