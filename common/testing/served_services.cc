#include "common/testing/served_services.h"

#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm::testing {

const std::map<std::string, std::string>& ServedServices() {
  // Referencing a message of each file keeps the file's descriptors in the binary (static
  // linking drops what nothing references), so the descriptor pool can find the services.
  (void)crm::contacts::v1::GetContactRequest::descriptor();
  (void)crm::pipeline::v1::GetDealRequest::descriptor();
  (void)crm::tasks::v1::GetTaskRequest::descriptor();
  (void)crm::reporting::v1::RunReportRequest::descriptor();
  static const auto* services = new std::map<std::string, std::string>{
      {crm::contacts::v1::ContactsService::service_full_name(), "contacts"},
      {crm::pipeline::v1::PipelineService::service_full_name(), "pipeline"},
      {crm::tasks::v1::TasksService::service_full_name(), "tasks"},
      {crm::reporting::v1::ReportingService::service_full_name(), "reporting"}};
  return *services;
}

}  // namespace crm::testing
