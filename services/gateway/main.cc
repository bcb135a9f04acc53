// The gateway: HTTP/JSON for front ends over every annotated RPC of the four services. Wiring
// only: routes come from the linked descriptors (routes.cc), calls from gateway_server.cc.
#include <prometheus/registry.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/log/log.h"
#include "common/server/server.h"
#include "crm/contacts/v1/contacts_service.pb.h"
#include "crm/pipeline/v1/pipeline_service.pb.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "crm/tasks/v1/tasks_service.pb.h"
#include "google/rpc/error_details.pb.h"
#include "services/gateway/backend.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/routes.h"

ABSL_DECLARE_FLAG(std::string, ready_file);

ABSL_FLAG(std::string, http_address, "127.0.0.1:8080", "host:port to serve HTTP on (0: any)");
ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051", "contacts service host:port");
ABSL_FLAG(std::string, pipeline_address, "127.0.0.1:50052", "pipeline service host:port");
ABSL_FLAG(std::string, tasks_address, "127.0.0.1:50053", "tasks service host:port");
ABSL_FLAG(std::string, reporting_address, "127.0.0.1:50054", "reporting service host:port");
ABSL_FLAG(int, http_threads, 32, "HTTP worker threads (the bound on concurrent requests)");
ABSL_FLAG(int, max_in_flight, 24, "Unary calls in progress before new ones get 503");
ABSL_FLAG(int, max_streams, 8, "Open event streams before new ones get 503");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "Largest request body (413 above)");
ABSL_FLAG(std::string, cors_origins, "",
          "Comma-separated browser origins allowed to call the API (\"*\" for any)");
ABSL_FLAG(double, rate_per_second, 100, "Per-token sustained request rate");
ABSL_FLAG(int, rate_burst, 200, "Per-token burst");
ABSL_FLAG(std::string, docs_dir, "",
          "The swagger-ui-dist folder served at /docs (installed by make deps)");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::config::ParseFlagsWithEnv(argc, argv, "HTTP/JSON gateway. Flags also read CRM_<FLAG>.");
  crm::log::Init("gateway", crm::config::LogLevelFromFlags());
  // Touch one message of each service's file so the linker keeps their descriptors (the routes
  // are read from them at run time, nothing else refers to them).
  (void)crm::contacts::v1::CreateContactRequest::descriptor();
  (void)crm::pipeline::v1::CreateDealRequest::descriptor();
  (void)crm::tasks::v1::CreateTaskRequest::descriptor();
  (void)crm::reporting::v1::RunReportRequest::descriptor();
  (void)google::rpc::BadRequest::descriptor();  // error details printed inside google.rpc.Status
  const std::map<std::string, std::string> services = {
      {"crm.contacts.v1.ContactsService", "contacts"},
      {"crm.pipeline.v1.PipelineService", "pipeline"},
      {"crm.tasks.v1.TasksService", "tasks"},
      {"crm.reporting.v1.ReportingService", "reporting"}};
  absl::StatusOr<crm::gateway::RouteTable> routes = crm::gateway::RouteTable::Build(services);
  if (!routes.ok()) {
    spdlog::critical("routes: {}", routes.status().ToString());
    return 1;
  }
  crm::gateway::Backends backends({{"contacts", absl::GetFlag(FLAGS_contacts_address)},
                                   {"pipeline", absl::GetFlag(FLAGS_pipeline_address)},
                                   {"tasks", absl::GetFlag(FLAGS_tasks_address)},
                                   {"reporting", absl::GetFlag(FLAGS_reporting_address)}});
  crm::gateway::GatewayOptions options;
  options.listen = absl::GetFlag(FLAGS_http_address);
  options.threads = absl::GetFlag(FLAGS_http_threads);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  options.cors_origins =
      absl::StrSplit(absl::GetFlag(FLAGS_cors_origins), ',', absl::SkipWhitespace());
  options.rate_per_second = absl::GetFlag(FLAGS_rate_per_second);
  options.rate_burst = absl::GetFlag(FLAGS_rate_burst);
  options.docs_dir = absl::GetFlag(FLAGS_docs_dir);
  auto registry = std::make_shared<prometheus::Registry>();
  crm::gateway::GatewayServer server(*routes, backends, registry, options);
  if (absl::Status started = server.Start(); !started.ok()) {
    spdlog::critical("{}", started.ToString());
    return 1;
  }
  spdlog::info("serving http=127.0.0.1:{} routes={}", server.port(), routes->routes().size());
  const std::string ready_file = absl::GetFlag(FLAGS_ready_file);
  if (!ready_file.empty()) {
    // Same contract as the services: grpc_port is the HTTP port here, so tests read one form.
    const std::string tmp = ready_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "grpc_port=%d\nmetrics_port=%d\n", server.port(), server.port());
      std::fclose(f);
      std::rename(tmp.c_str(), ready_file.c_str());
    }
  }
  const int signal_number = crm::server::WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  server.Stop();
  spdlog::info("stopped");
  return 0;
}
