#include "services/crmctl/report_commands.h"

#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/crmctl/rpc.h"
#include "services/crmctl/table.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::reporting::v1;

template <typename Enum>
bool ParseEnum(const std::string& text, const std::string& prefix,
               bool (*parse)(const std::string&, Enum*), Enum* out) {
  return parse(prefix + absl::AsciiStrToUpper(text), out);
}

int FailRpc(const grpc::Status& status) {
  return ctl::FailRpc(status, "is the reporting service running (make run)? see --reporting_addr");
}

bool WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  return static_cast<bool>(out);
}

}  // namespace

int Report(v1::ReportingService::Stub& stub, const std::vector<char*>& args,
           const ReportCommandOptions& options) {
  if (args.size() < 3) {
    return Fail(
        "usage: crmctl report <pipeline_by_stage|won_lost|stage_conversion|forecast|"
        "activities_by_rep|tasks_by_rep|leads_by_source> --period week|month|quarter|year|"
        "fiscal_quarter|fiscal_year|custom [--anchor DATE | --from DATE --to DATE] "
        "[--group_by rep,stage,source,period,custom_fields.KEY] [--sum custom_fields.KEY] "
        "[--csv FILE] [--svg FILE [--chart bar]]");
  }
  v1::ReportSpec spec;
  v1::ReportKind kind;
  if (!ParseEnum<v1::ReportKind>(args[2], "REPORT_KIND_", &v1::ReportKind_Parse, &kind)) {
    return Fail(absl::StrCat("unknown report '", args[2], "'"));
  }
  spec.set_kind(kind);
  v1::PeriodKind period = v1::PERIOD_KIND_MONTH;
  if (!options.period.empty() &&
      !ParseEnum<v1::PeriodKind>(options.period, "PERIOD_KIND_", &v1::PeriodKind_Parse, &period)) {
    return Fail(absl::StrCat("unknown --period '", options.period, "'"));
  }
  spec.set_period(period);
  spec.set_anchor_date(options.anchor);
  spec.set_from_date(options.from);
  spec.set_to_date(options.to);
  spec.set_bucket(options.bucket);
  for (absl::string_view d : absl::StrSplit(options.group_by, ',', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&d, "custom_fields.")) {
      spec.add_group_by(v1::DIMENSION_CUSTOM_FIELD);
      spec.set_custom_field(std::string(d));
      continue;
    }
    v1::Dimension dimension;
    if (!ParseEnum<v1::Dimension>(std::string(d), "DIMENSION_", &v1::Dimension_Parse, &dimension)) {
      return Fail(absl::StrCat("unknown --group_by '", d,
                               "' (rep, stage, source, period, custom_fields.<key>)"));
    }
    spec.add_group_by(dimension);
  }
  absl::string_view sum = options.sum;
  if (!sum.empty() && !absl::ConsumePrefix(&sum, "custom_fields.")) {
    return Fail(absl::StrCat("--sum takes custom_fields.<key>, not '", sum, "'"));
  }
  spec.set_sum_custom_field(std::string(sum));

  v1::RunReportRequest run;
  *run.mutable_spec() = spec;
  v1::Report report;
  grpc::Status status =
      stub.RunReport(CallContext(options.token, options.timeout_seconds).get(), run, &report);
  if (!status.ok()) return FailRpc(status);
  if (options.json) {
    PrintJson(report);
  } else {
    std::cout << report.title() << " (" << report.time_zone() << ")\n";
    std::vector<std::string> headers;
    for (const auto& c : report.columns()) headers.push_back(absl::AsciiStrToUpper(c.name()));
    Table table(headers);
    for (const auto& row : report.rows()) {
      table.AddRow(std::vector<std::string>(row.cells().begin(), row.cells().end()));
    }
    if (report.totals().cells_size() > 0) {
      table.AddRow(
          std::vector<std::string>(report.totals().cells().begin(), report.totals().cells().end()));
    }
    std::cout << table.Render(options.colour);
    std::cout << "money in minor units (cents); current up to:";
    for (const auto& f : report.freshness()) std::cout << " " << f.source() << "@" << f.position();
    std::cout << "\n";
  }
  for (const auto& [format, path] :
       {std::pair<std::string, std::string>{"csv", options.csv_path}, {"svg", options.svg_path}}) {
    if (path.empty()) continue;
    v1::ExportReportRequest request;
    *request.mutable_spec() = spec;
    request.set_format(format);
    if (format == "svg" && !options.chart.empty()) {
      v1::ChartKind chart;
      if (!ParseEnum<v1::ChartKind>(options.chart, "CHART_KIND_", &v1::ChartKind_Parse, &chart)) {
        return Fail("--chart: bar, stacked_bar, line or funnel");
      }
      request.set_chart(chart);
    }
    v1::ReportFile file;
    status = stub.ExportReport(CallContext(options.token, options.timeout_seconds).get(), request,
                               &file);
    if (!status.ok()) return FailRpc(status);
    if (!WriteFile(path, file.content())) return Fail(absl::StrCat("cannot write ", path));
    std::cerr << "wrote " << path << " (" << file.content().size() << " bytes)\n";
  }
  return 0;
}

}  // namespace crm::ctl
