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

// Where a service keeps the claims of unique values (UniqueValues::Table()) and the id column of
// the object's records, so that `custom_fields.<unique key> = "v"` is answered by the claims'
// primary key instead of a scan of every record's jsonb.
struct UniqueLookup {
  std::string table;        // "contacts.custom_field_unique"
  std::string object_type;  // ObjectSegment(object): "contact"
  std::string id_column;    // "id", "t.id": a uuid, the last segment of the record's name
};

// `column` is the trusted SQL of the values column ("custom_fields"). Archived definitions are
// left out. Money fields give two: "<key>.amount_minor" and "<key>.currency_code". With `unique`,
// exact matches on unique text, email, phone and URL fields use the claims.
std::vector<api::FilterField> FilterFields(const std::vector<Definition>& definitions,
                                           absl::string_view column,
                                           const UniqueLookup* unique = nullptr);

// The same fields as AIP-132 order_by keys ("custom_fields.arr desc"): every type but
// multi-select (a set has no order). Numbers sort as numbers, dates and text as text.
std::map<std::string, std::string> SortColumns(const std::vector<Definition>& definitions,
                                               absl::string_view column);

// `base` plus the custom fields of `definitions`.
api::FilterSchema WithCustomFields(const api::FilterSchema& base,
                                   const std::vector<Definition>& definitions,
                                   absl::string_view column, const UniqueLookup* unique = nullptr);

}  // namespace crm::fields
