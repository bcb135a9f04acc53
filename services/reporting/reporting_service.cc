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

}  // namespace

grpc::ServerUnaryReactor* ReportingService::RunReport(grpc::CallbackServerContext* context,
                                                      const v1::RunReportRequest* request,
                                                      v1::Report* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(*response,
                     engine_.Run(caller.tenant, request->spec(), absl::Now(), call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportingService::ExportReport(grpc::CallbackServerContext* context,
                                                         const v1::ExportReportRequest* request,
                                                         v1::ReportFile* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    if (request->format() != "csv" && request->format() != "svg") {
      return api::InvalidField("format", "csv or svg");
    }
    ASSIGN_OR_RETURN(v1::Report report,
                     engine_.Run(caller.tenant, request->spec(), absl::Now(), call.deadline));
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
  });
}

grpc::ServerUnaryReactor* ReportingService::CreateReportSchedule(
    grpc::CallbackServerContext* context, const v1::CreateReportScheduleRequest* request,
    v1::ReportSchedule* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(*response, schedules_.Create(caller.tenant, request->schedule(), absl::Now(),
                                                  call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportingService::ListReportSchedules(
    grpc::CallbackServerContext* context, const v1::ListReportSchedulesRequest* request,
    v1::ListReportSchedulesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = api::QueryFingerprint("schedules");
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto schedules,
                     schedules_.List(caller.tenant, page.offset, page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(schedules, page, fingerprint));
    for (auto& s : schedules) *response->add_schedules() = std::move(s);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReportingService::DeleteReportSchedule(
    grpc::CallbackServerContext* context, const v1::DeleteReportScheduleRequest* request,
    google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     api::ParseResourceId(request->name(), kSchedulePrefix, "name"));
    return schedules_.Delete(caller.tenant, id, call.deadline);
  });
}

grpc::ServerUnaryReactor* ReportingService::ListReportRuns(grpc::CallbackServerContext* context,
                                                           const v1::ListReportRunsRequest* request,
                                                           v1::ListReportRunsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     api::ParseResourceId(request->parent(), kSchedulePrefix, "parent"));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size(), 20, 200));
    const std::string fingerprint = api::QueryFingerprint(absl::StrCat("runs\x1f", id));
    ASSIGN_OR_RETURN(api::ListPosition at,
                     api::DecodeListPosition(request->page_token(), fingerprint, true));
    ASSIGN_OR_RETURN(auto page,
                     schedules_.ListRuns(caller.tenant, id, at.after_id, page_size, call.deadline));
    if (page.second && !page.first.empty()) {
      const std::string& last = page.first.back().name();
      response->set_next_page_token(api::NextListPageToken(true, last.substr(last.rfind('/') + 1),
                                                           at, page_size, fingerprint));
    }
    for (auto& r : page.first) *response->add_runs() = std::move(r);
    return absl::OkStatus();
  });
}

}  // namespace crm::reporting
