// The fields clients may filter deals on (AIP-160), mapped to SQL over pipeline.deals.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::pipeline {

const api::FilterSchema& DealFilterSchema();

// The fields deals sort on (AIP-132 order_by), mapped to SQL; custom fields come on top
// (CustomFieldsApi::CompileOrderBy) with "id" as the tiebreak.
const std::map<std::string, std::string>& DealSortColumns();

}  // namespace crm::pipeline
