// The hook a record write runs for its custom fields (see CustomFieldsApi::WithCustomFields).
#pragma once

#include <functional>
#include <string>

#include "common/db/transaction.h"
#include "common/fields/custom_field_rules.h"

namespace crm::fields {

// Queued into a record's write once the record is: the definitions' version check and the claims
// of unique values, given the record's name and its values as written.
using WriteGuard =
    std::function<void(db::Transaction& tx, const std::string& record, const Values& values)>;

}  // namespace crm::fields
