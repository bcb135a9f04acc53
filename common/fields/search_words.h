// The words of a record's custom field values that search covers: text (the first 200
// characters of each, so long texts keep a trigram index small) and email values, in key order.
// contacts/migrations/006 computes the same in SQL for changes made in bulk.
#pragma once

#include <string>

#include "common/fields/custom_field_rules.h"

namespace crm::fields {

inline constexpr size_t kSearchedTextChars = 200;

std::string SearchWords(const Values& values);

}  // namespace crm::fields
