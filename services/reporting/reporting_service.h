// gRPC adapter of the reporting service: authenticates, runs reports, renders files, manages
// schedules, converts errors.
#pragma once

#include "common/auth/authenticator.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "services/reporting/report_engine.h"
#include "services/reporting/schedules.h"

namespace crm::reporting {

class ReportingService final : public v1::ReportingService::Service {
 public:
  ReportingService(ReportEngine& engine, ScheduleStore& schedules,
                   const auth::Authenticator& authenticator)
      : engine_(engine), schedules_(schedules), authenticator_(authenticator) {}

  grpc::Status RunReport(grpc::ServerContext* context, const v1::RunReportRequest* request,
                         v1::Report* response) override;
  grpc::Status ExportReport(grpc::ServerContext* context, const v1::ExportReportRequest* request,
                            v1::ReportFile* response) override;
  grpc::Status CreateReportSchedule(grpc::ServerContext* context,
                                    const v1::CreateReportScheduleRequest* request,
                                    v1::ReportSchedule* response) override;
  grpc::Status ListReportSchedules(grpc::ServerContext* context,
                                   const v1::ListReportSchedulesRequest* request,
                                   v1::ListReportSchedulesResponse* response) override;
  grpc::Status DeleteReportSchedule(grpc::ServerContext* context,
                                    const v1::DeleteReportScheduleRequest* request,
                                    google::protobuf::Empty* response) override;
  grpc::Status ListReportRuns(grpc::ServerContext* context,
                              const v1::ListReportRunsRequest* request,
                              v1::ListReportRunsResponse* response) override;

 private:
  ReportEngine& engine_;
  ScheduleStore& schedules_;
  const auth::Authenticator& authenticator_;
};

}  // namespace crm::reporting
