// Report periods in the tenant's calendar: ISO weeks, months, quarters, years, fiscal quarters
// and years (from the tenant's fiscal-year start month), or any date range. Pure; unit-tested.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "crm/reporting/v1/report.pb.h"

namespace crm::reporting {

// [from, to): local days.
struct Period {
  absl::CivilDay from;
  absl::CivilDay to;
};

// The period of `spec` (its kind and anchor date, or its custom range) when today is `today`.
// INVALID_ARGUMENT naming the field for bad dates, an empty or reversed range, or one longer than
// ten years.
absl::StatusOr<Period> ResolvePeriod(const v1::ReportSpec& spec, absl::CivilDay today,
                                     int fiscal_year_start_month);

// The period before the one containing `day` (what a schedule reports when it runs).
absl::StatusOr<Period> PreviousPeriod(v1::PeriodKind kind, absl::CivilDay day,
                                      int fiscal_year_start_month);

// "day", "week", "month" or "quarter": the spec's bucket, or the default for its period.
absl::StatusOr<std::string> BucketOf(const v1::ReportSpec& spec, const Period& period);

// SQL turning a local date expression into its bucket's first day (ISO weeks start on Monday;
// quarters follow the fiscal year). `fiscal_start_param` is the placeholder of the fiscal-year
// start month ("$5").
std::string BucketSql(const std::string& bucket, const std::string& local_date,
                      const std::string& fiscal_start_param);

std::string DayText(absl::CivilDay day);

}  // namespace crm::reporting
