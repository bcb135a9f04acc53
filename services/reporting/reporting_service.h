// gRPC adapter of the reporting service: authenticates, runs reports, renders files, manages
// schedules, converts errors.
#pragma once

#include "common/auth/authenticator.h"
#include "common/server/rpc.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "services/reporting/report_engine.h"
#include "services/reporting/schedules.h"

namespace crm::reporting {

class ReportingService final : public v1::ReportingService::CallbackService {
 public:
  ReportingService(ReportEngine& engine, ScheduleStore& schedules,
                   const auth::Authenticator& authenticator, server::Executor& executor)
      : engine_(engine),
        schedules_(schedules),
        rpcs_(authenticator, executor, v1::ReportingService::service_full_name()) {}

  grpc::ServerUnaryReactor* RunReport(grpc::CallbackServerContext* context,
                                      const v1::RunReportRequest* request,
                                      v1::Report* response) override;
  grpc::ServerUnaryReactor* ExportReport(grpc::CallbackServerContext* context,
                                         const v1::ExportReportRequest* request,
                                         v1::ReportFile* response) override;
  grpc::ServerUnaryReactor* CreateReportSchedule(grpc::CallbackServerContext* context,
                                                 const v1::CreateReportScheduleRequest* request,
                                                 v1::ReportSchedule* response) override;
  grpc::ServerUnaryReactor* ListReportSchedules(grpc::CallbackServerContext* context,
                                                const v1::ListReportSchedulesRequest* request,
                                                v1::ListReportSchedulesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteReportSchedule(grpc::CallbackServerContext* context,
                                                 const v1::DeleteReportScheduleRequest* request,
                                                 google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListReportRuns(grpc::CallbackServerContext* context,
                                           const v1::ListReportRunsRequest* request,
                                           v1::ListReportRunsResponse* response) override;

 private:
  ReportEngine& engine_;
  ScheduleStore& schedules_;
  const server::Rpcs rpcs_;
};

}  // namespace crm::reporting
