// Custom fields as AIP-160 filter fields ("custom_fields.arr > 1000 AND custom_fields.tier =
// gold"), for any service whose records keep their values in a jsonb column: one filter field
// per definition, typed by the definition, read from the stored proto3 JSON.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/api/filter.h"
#include "common/fields/custom_field_rules.h"

namespace crm::fields {

// `column` is the trusted SQL of the values column ("custom_fields"). Archived definitions are
// left out. Money fields give two: "<key>.amount_minor" and "<key>.currency_code".
std::vector<api::FilterField> FilterFields(const std::vector<Definition>& definitions,
                                           absl::string_view column);

// The same fields as AIP-132 order_by keys ("custom_fields.arr desc"): every type but
// multi-select (a set has no order). Numbers sort as numbers, dates and text as text.
std::map<std::string, std::string> SortColumns(const std::vector<Definition>& definitions,
                                               absl::string_view column);

// `base` plus the custom fields of `definitions`.
api::FilterSchema WithCustomFields(const api::FilterSchema& base,
                                   const std::vector<Definition>& definitions,
                                   absl::string_view column);

}  // namespace crm::fields
