// The fields clients may filter deals on (AIP-160), mapped to SQL over pipeline.deals.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::pipeline {

const api::FilterSchema& DealFilterSchema();

// An AIP-132 order_by for deals as SQL ("amount_minor DESC, id"); INVALID_ARGUMENT naming
// order_by for unknown fields. Empty input gives "id".
absl::StatusOr<std::string> DealOrderBy(absl::string_view order_by);

}  // namespace crm::pipeline
