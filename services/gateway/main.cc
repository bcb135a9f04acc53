// The gateway: HTTP/JSON for front ends over every annotated RPC of the four services. Wiring
// only: routes come from the linked descriptors (routes.cc), calls from gateway_server.cc.
#include <prometheus/registry.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "common/auth/authenticator.h"
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
ABSL_FLAG(int, http_threads, 2, "Threads serving HTTP (event-driven: no thread per connection)");
ABSL_FLAG(int, max_connections, 20000, "Client connections at most (more are closed at once)");
ABSL_FLAG(int, max_in_flight, 1024, "Unary calls in progress before new ones get 503");
ABSL_FLAG(int64_t, max_body_bytes, 1 << 20, "Largest request body (413 above)");
ABSL_FLAG(int, header_timeout_ms, 5000,
          "From a request's first byte, how long its headers may take (408 after)");
ABSL_FLAG(int, body_timeout_ms, 10000, "After the headers, how long the body may take (408 after)");
ABSL_FLAG(int, idle_timeout_ms, 30000, "How long a keep-alive connection may sit idle");
ABSL_FLAG(int, write_timeout_ms, 10000,
          "How long one response write may take (a client that does not read is dropped)");
ABSL_FLAG(std::string, cors_origins, "",
          "Comma-separated browser origins allowed to call the API (\"*\" for any)");
ABSL_FLAG(double, rate_per_second, 100, "Sustained request rate per verified user");
ABSL_FLAG(int, rate_burst, 200, "Burst per verified user");
ABSL_FLAG(double, refusal_rate_per_second, 10,
          "Requests without a valid token per client address and second (401, then 429)");
ABSL_FLAG(std::string, docs_dir, "",
          "The swagger-ui-dist folder served at /docs (installed by make deps)");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
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
  // The gateway verifies user tokens (with public keys in production) but holds no service
  // secret: the service identity cannot come in from the internet.
  absl::StatusOr<crm::auth::AuthOptions> auth_options = crm::config::AuthOptionsFromFlags();
  if (auth_options.ok()) auth_options->service_secret.clear();
  auto authenticator =
      auth_options.ok()
          ? crm::auth::Authenticator::Create(*auth_options)
          : absl::StatusOr<std::unique_ptr<crm::auth::Authenticator>>(auth_options.status());
  if (!authenticator.ok()) {
    spdlog::critical("bad auth configuration: {}", authenticator.status().ToString());
    return 2;
  }
  crm::server::RaiseOpenFileLimit();
  crm::gateway::GatewayOptions options;
  options.http.listen = absl::GetFlag(FLAGS_http_address);
  options.http.threads = absl::GetFlag(FLAGS_http_threads);
  options.http.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.http.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  options.http.header_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_header_timeout_ms));
  options.http.body_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_body_timeout_ms));
  options.http.idle_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  options.http.write_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_write_timeout_ms));
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  options.streams = crm::config::StreamLimitsFromFlags();
  options.refusal_rate_per_second = absl::GetFlag(FLAGS_refusal_rate_per_second);
  options.cors_origins =
      absl::StrSplit(absl::GetFlag(FLAGS_cors_origins), ',', absl::SkipWhitespace());
  options.rate_per_second = absl::GetFlag(FLAGS_rate_per_second);
  options.rate_burst = absl::GetFlag(FLAGS_rate_burst);
  options.docs_dir = absl::GetFlag(FLAGS_docs_dir);
  auto registry = std::make_shared<prometheus::Registry>();
  crm::gateway::GatewayServer server(*routes, backends, **authenticator, registry, options);
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
