// crmctl report: runs a report and prints it as a table; optionally writes CSV and SVG files.
//   crmctl report won_lost --period month [--anchor 2026-11-01] [--group_by rep,period]
//   crmctl report pipeline_by_stage --group_by custom_fields.tier --sum custom_fields.arr
//   crmctl report pipeline_by_stage --period custom --from 2026-01-01 --to 2026-04-01
//       [--csv out.csv] [--svg out.svg --chart funnel]
#pragma once

#include <string>
#include <vector>

#include "crm/reporting/v1/reporting_service.grpc.pb.h"

namespace crm::ctl {

struct ReportCommandOptions {
  std::string token;
  bool json = false;
  bool colour = false;
  int timeout_seconds = 30;
  std::string period, anchor, from, to, group_by, bucket, csv_path, svg_path, chart;
  std::string sum;  // "custom_fields.<key>": a column summing that custom field
};

int Report(crm::reporting::v1::ReportingService::Stub& stub, const std::vector<char*>& args,
           const ReportCommandOptions& options);

}  // namespace crm::ctl
