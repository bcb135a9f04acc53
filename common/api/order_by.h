// AIP-132 `order_by` compiled to SQL over a service's sortable fields.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// "amount_minor desc, create_time" -> "amount_minor DESC NULLS LAST, create_time ASC NULLS LAST,
// <tiebreak>". `columns` maps the names clients write to trusted SQL expressions; `tiebreak` (a
// unique column) makes the order total, so pages neither repeat nor skip. INVALID_ARGUMENT on
// field "order_by" for unknown fields or bad syntax. Empty input gives just the tiebreak.
absl::StatusOr<std::string> OrderBySql(absl::string_view order_by,
                                       const std::map<std::string, std::string>& columns,
                                       absl::string_view tiebreak);

}  // namespace crm::api
