// Runs reports over the read models: resolves the period in the tenant's calendar, checks the
// grouping, runs one SQL query per report and turns its integer aggregates into rows and totals
// (exact: money in minor units, ratios computed from the summed integers).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "crm/reporting/v1/report.pb.h"

namespace crm::reporting {

class ReportEngine final {
 public:
  explicit ReportEngine(db::Pool& pool) : pool_(pool) {}

  // The report of `spec` for `tenant` as of `now`. INVALID_ARGUMENT naming the field for a bad
  // spec (unknown kind, a grouping the report does not have, bad dates).
  absl::StatusOr<v1::Report> Run(const std::string& tenant, const v1::ReportSpec& spec,
                                 absl::Time now, absl::Time deadline);

  // The tenant's time zone and fiscal-year start month (UTC and January until settings arrive).
  struct Calendar {
    std::string time_zone = "UTC";
    int fiscal_year_start_month = 1;
  };
  absl::StatusOr<Calendar> CalendarOf(const std::string& tenant, absl::Time deadline);

 private:
  db::Pool& pool_;
};

// "Won / lost" and the like: a report kind's title.
std::string ReportTitle(v1::ReportKind kind);

}  // namespace crm::reporting
