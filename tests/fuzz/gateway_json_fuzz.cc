// What the gateway makes of an HTTP request: "VERB PATH\nQUERY\nIF-MATCH\nBODY" routed and
// transcoded to the gRPC request, never a crash or an exception, and a request it builds prints
// back to JSON that parses to the same message.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <string>

#include "crm/contacts/v1/contacts_service.pb.h"
#include "crm/pipeline/v1/pipeline_service.pb.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "crm/tasks/v1/tasks_service.pb.h"
#include "services/gateway/routes.h"
#include "services/gateway/transcoder.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

const crm::gateway::RouteTable& Routes() {
  // Referencing each service's file keeps its descriptors in the binary (static linking).
  (void)crm::contacts::v1::CreateContactRequest::descriptor();
  (void)crm::pipeline::v1::CreateDealRequest::descriptor();
  (void)crm::tasks::v1::CreateTaskRequest::descriptor();
  (void)crm::reporting::v1::RunReportRequest::descriptor();
  static const auto* table = new crm::gateway::RouteTable(
      *crm::gateway::RouteTable::Build({{"crm.contacts.v1.ContactsService", "contacts"},
                                        {"crm.pipeline.v1.PipelineService", "pipeline"},
                                        {"crm.tasks.v1.TasksService", "tasks"},
                                        {"crm.reporting.v1.ReportingService", "reporting"}}));
  return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = crm::fuzz::SplitLines(crm::fuzz::AsView(data, size), 4);
  const std::string& line = parts[0];
  const size_t space = line.find(' ');
  if (space == std::string::npos) return 0;
  auto match = Routes().Match(line.substr(0, space), line.substr(space + 1));
  (void)Routes().VerbsFor(line.substr(space + 1));
  // Error messages become JSON bodies and proto3 strings: always valid UTF-8.
  CRM_FUZZ_CHECK(crm::fuzz::IsUtf8(match.status().message()));
  if (!match.ok()) return 0;
  crm::gateway::HttpInput input;
  input.query = parts.size() > 1 ? parts[1] : "";
  input.if_match = parts.size() > 2 ? parts[2] : "";
  input.body = parts.size() > 3 ? parts[3] : "";
  auto request = crm::gateway::BuildRequest(*match, input);
  (void)crm::gateway::QueryValue(input.query, "alt");
  CRM_FUZZ_CHECK(crm::fuzz::IsUtf8(request.status().message()));
  if (!request.ok()) return 0;
  const std::string json = crm::gateway::ToJson(**request);
  std::unique_ptr<google::protobuf::Message> again((*request)->New());
  CRM_FUZZ_CHECK(google::protobuf::util::JsonStringToMessage(json, again.get()).ok());
  CRM_FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(**request, *again));
  return 0;
}
