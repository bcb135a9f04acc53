// Exact sums of decimal text ("-1234.50"), for report totals of custom number fields: the cells
// come from PostgreSQL's numeric sums, and the total must reconcile with them to the last digit.
#pragma once

#include <string>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::reporting {

class DecimalSum {
 public:
  // Up to 9 digits after the point (custom number fields' largest scale) and 27 before it.
  absl::Status Add(absl::string_view decimal);
  // The sum with as many digits after the point as the most precise addend; "" when nothing
  // was added.
  std::string Text() const;

 private:
  absl::int128 nanos_ = 0;  // the sum x 10^9
  int scale_ = 0;
  bool any_ = false;
};

}  // namespace crm::reporting
