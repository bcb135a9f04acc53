#include "services/reporting/reporting_service.h"

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/api/resource_name.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/reporting/report_files.h"

namespace crm::reporting {
namespace {

constexpr absl::string_view kSchedulePrefix = "reportSchedules/";

absl::Status RequireManager(const auth::Principal& caller) {
  if (caller.manager || caller.IsAdmin()) return absl::OkStatus();
  return absl::PermissionDeniedError("only managers and admins schedule reports");
}

}  // namespace

grpc::Status ReportingService::RunReport(grpc::ServerContext* context,
                                         const v1::RunReportRequest* request,
                                         v1::Report* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(*response, engine_.Run(caller.tenant, request->spec(), absl::Now(),
                                            server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ReportingService::ExportReport(grpc::ServerContext* context,
                                            const v1::ExportReportRequest* request,
                                            v1::ReportFile* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    if (request->format() != "csv" && request->format() != "svg") {
      return api::InvalidField("format", "csv or svg");
    }
    ASSIGN_OR_RETURN(v1::Report report, engine_.Run(caller.tenant, request->spec(), absl::Now(),
                                                    server::DeadlineOf(*context)));
    if (request->format() == "csv") {
      response->set_content_type("text/csv; charset=utf-8");
      response->set_content(ReportCsv(report));
    } else {
      ASSIGN_OR_RETURN(std::string svg, ReportSvg(report, request->chart()));
      response->set_content_type("image/svg+xml");
      response->set_content(std::move(svg));
    }
    response->set_filename(ReportFileName(report, request->format()));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ReportingService::CreateReportSchedule(grpc::ServerContext* context,
                                                    const v1::CreateReportScheduleRequest* request,
                                                    v1::ReportSchedule* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireManager(caller));
    ASSIGN_OR_RETURN(*response, schedules_.Create(caller.tenant, request->schedule(), absl::Now(),
                                                  server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ReportingService::ListReportSchedules(grpc::ServerContext* context,
                                                   const v1::ListReportSchedulesRequest* request,
                                                   v1::ListReportSchedulesResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    const std::string fingerprint = api::QueryFingerprint("schedules");
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto schedules, schedules_.List(caller.tenant, page.offset, page.read_limit(),
                                                     server::DeadlineOf(*context)));
    response->set_next_page_token(api::FinishOffsetPage(schedules, page, fingerprint));
    for (auto& s : schedules) *response->add_schedules() = std::move(s);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ReportingService::DeleteReportSchedule(grpc::ServerContext* context,
                                                    const v1::DeleteReportScheduleRequest* request,
                                                    google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(RequireManager(caller));
    ASSIGN_OR_RETURN(std::string id,
                     api::ParseResourceId(request->name(), kSchedulePrefix, "name"));
    return schedules_.Delete(caller.tenant, id, server::DeadlineOf(*context));
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ReportingService::ListReportRuns(grpc::ServerContext* context,
                                              const v1::ListReportRunsRequest* request,
                                              v1::ListReportRunsResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(std::string id,
                     api::ParseResourceId(request->parent(), kSchedulePrefix, "parent"));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size(), 20, 200));
    const std::string fingerprint = api::QueryFingerprint(absl::StrCat("runs\x1f", id));
    ASSIGN_OR_RETURN(api::ListPosition at,
                     api::DecodeListPosition(request->page_token(), fingerprint, true));
    ASSIGN_OR_RETURN(auto page, schedules_.ListRuns(caller.tenant, id, at.after_id, page_size,
                                                    server::DeadlineOf(*context)));
    if (page.second && !page.first.empty()) {
      const std::string& last = page.first.back().name();
      response->set_next_page_token(api::NextListPageToken(true, last.substr(last.rfind('/') + 1),
                                                           at, page_size, fingerprint));
    }
    for (auto& r : page.first) *response->add_runs() = std::move(r);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

}  // namespace crm::reporting
