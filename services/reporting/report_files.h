// Reports as files: CSV (RFC 4180) and SVG charts (bar, stacked bar, line, funnel) with title,
// period, axis labels and legend. Deterministic: the same report gives the same bytes. Pure.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "crm/reporting/v1/report.pb.h"

namespace crm::reporting {

// Header, rows, then the totals row. Text cells that a spreadsheet would run as a formula
// (=, +, -, @ first) are prefixed with a single quote.
std::string ReportCsv(const v1::Report& report);

// The chart a report kind shows by default.
v1::ChartKind DefaultChart(const v1::Report& report);

// An SVG document. Bars and points carry data-category, data-series and data-value (exact, in
// the report's units) so tools and tests can read them back.
absl::StatusOr<std::string> ReportSvg(const v1::Report& report, v1::ChartKind chart);

// "won-lost-2026-11-01.csv".
std::string ReportFileName(const v1::Report& report, const std::string& extension);

}  // namespace crm::reporting
