// Reporting at scale, two figures:
//   --mode=latency  RunReport of one spec N times in a row: p50 / p99 (the read side).
//   --mode=lag      commit -> report: wins a deal through the pipeline service, then polls the
//                   won/lost report until it counts it; p50 / p99 over N deals (the event path).
// Prints one `key=value` line.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "common/auth/jwt.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"

ABSL_FLAG(std::string, mode, "latency", "latency or lag");
ABSL_FLAG(std::string, reporting, "127.0.0.1:50054", "reporting host:port");
ABSL_FLAG(std::string, pipeline, "127.0.0.1:50052", "pipeline host:port (lag)");
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file");
ABSL_FLAG(std::string, tenant, "bench-scale", "tenant");
ABSL_FLAG(std::string, kind, "won_lost", "latency: won_lost or activities_by_rep");
ABSL_FLAG(std::string, anchor, "2026-06-01", "latency: a day of the reported year");
ABSL_FLAG(int, runs, 50, "reports (latency) or deals (lag)");

namespace {

namespace rv1 = crm::reporting::v1;
namespace pv1 = crm::pipeline::v1;

std::string Token(const std::string& secret, const std::string& tenant) {
  crm::auth::Claims claims;
  claims.subject = "bench";
  claims.tenant = tenant;
  claims.roles = {"manager"};
  claims.expires = absl::Now() + absl::Hours(1);
  return crm::auth::SignHs256(claims, secret);
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return context;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int64_t WonTotal(rv1::ReportingService::Stub& stub, const std::string& token) {
  rv1::RunReportRequest request;
  request.mutable_spec()->set_kind(rv1::REPORT_KIND_WON_LOST);
  request.mutable_spec()->set_period(rv1::PERIOD_KIND_MONTH);
  rv1::Report report;
  if (!stub.RunReport(Context(token).get(), request, &report).ok()) return -1;
  for (int i = 0; i < report.columns_size(); ++i) {
    if (report.columns(i).name() == "won" && i < report.totals().cells_size()) {
      return std::stoll(report.totals().cells(i));
    }
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto secret = crm::auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
  if (!secret.ok()) return 2;
  const std::string token = Token(*secret, absl::GetFlag(FLAGS_tenant));
  auto reporting = rv1::ReportingService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_reporting), grpc::InsecureChannelCredentials()));
  const int runs = absl::GetFlag(FLAGS_runs);
  std::vector<double> ms;

  if (absl::GetFlag(FLAGS_mode) == "latency") {
    rv1::RunReportRequest request;
    request.mutable_spec()->set_kind(absl::GetFlag(FLAGS_kind) == "activities_by_rep"
                                         ? rv1::REPORT_KIND_ACTIVITIES_BY_REP
                                         : rv1::REPORT_KIND_WON_LOST);
    request.mutable_spec()->set_period(rv1::PERIOD_KIND_YEAR);
    request.mutable_spec()->set_anchor_date(absl::GetFlag(FLAGS_anchor));
    request.mutable_spec()->add_group_by(rv1::DIMENSION_PERIOD);
    request.mutable_spec()->add_group_by(rv1::DIMENSION_REP);
    int rows = 0;
    for (int i = 0; i < runs; ++i) {
      rv1::Report report;
      const absl::Time start = absl::Now();
      grpc::Status status = reporting->RunReport(Context(token).get(), request, &report);
      if (!status.ok()) {
        std::fprintf(stderr, "RunReport: %s\n", status.error_message().c_str());
        return 1;
      }
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      rows = report.rows_size();
    }
    std::printf("report_latency kind=%s runs=%d rows=%d p50_ms=%.2f p99_ms=%.2f\n",
                absl::GetFlag(FLAGS_kind).c_str(), runs, rows, Percentile(ms, 0.5),
                Percentile(ms, 0.99));
    return 0;
  }

  auto pipeline = pv1::PipelineService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_pipeline), grpc::InsecureChannelCredentials()));
  pv1::ListPipelinesResponse pipelines;
  if (!pipeline->ListPipelines(Context(token).get(), {}, &pipelines).ok() ||
      pipelines.pipelines_size() == 0) {
    return 1;
  }
  std::string won_stage;
  for (const auto& stage : pipelines.pipelines(0).stages()) {
    if (stage.kind() == pv1::STAGE_KIND_WON) won_stage = stage.id();
  }
  int64_t counted = WonTotal(*reporting, token);
  const absl::Time give_up = absl::Now() + absl::Minutes(5);
  for (int i = 0; i < runs && absl::Now() < give_up; ++i) {
    pv1::CreateDealRequest create;
    create.mutable_deal()->set_display_name(absl::StrCat("lag ", i));
    create.mutable_deal()->mutable_amount()->set_amount_minor(1000);
    pv1::Deal deal;
    if (!pipeline->CreateDeal(Context(token).get(), create, &deal).ok()) return 1;
    pv1::MoveDealRequest move;
    move.set_name(deal.name());
    move.set_etag(deal.etag());
    move.set_stage(won_stage);
    if (!pipeline->MoveDeal(Context(token).get(), move, &deal).ok()) return 1;
    const absl::Time committed = absl::Now();
    while (absl::Now() < give_up) {
      const int64_t now_counted = WonTotal(*reporting, token);
      if (now_counted > counted) {
        counted = now_counted;
        ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - committed));
        break;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  std::printf("commit_to_report deals=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", ms.size(),
              Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0));
  return ms.size() == static_cast<size_t>(runs) ? 0 : 1;
}
