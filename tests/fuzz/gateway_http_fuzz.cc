// The whole gateway as a client meets it: raw bytes on a socket to the real HTTP server, through
// token verification, routing and transcoding, to a real gRPC backend in the same process (a
// generic service that answers every call). Unlike gateway_json_fuzz this reaches the point
// where request values become gRPC metadata, where a single bad header byte once aborted the
// gateway. "$TOKEN" in an input becomes a valid bearer token, so inputs get past verification.
//
// Invariants: every request the client finished sending gets an HTTP answer (never a dropped
// connection or a 500), and the process survives (libFuzzer notices an abort).
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/auth/authenticator.h"
#include "common/testing/raw_http.h"
#include "crm/contacts/v1/contacts_service.pb.h"
#include "crm/pipeline/v1/pipeline_service.pb.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "crm/tasks/v1/tasks_service.pb.h"
#include "services/gateway/backend.h"
#include "services/gateway/gateway_server.h"
#include "services/gateway/routes.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef-0123456789";

// Answers every call of every method with one empty message and OK.
class AnswerEverything final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { StartRead(&request_); }
      void OnReadDone(bool) override {
        grpc::Slice empty("");
        reply_ = grpc::ByteBuffer(&empty, 1);
        StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
      }
      void OnDone() override { delete this; }

     private:
      grpc::ByteBuffer request_, reply_;
    };
    return new Reactor;
  }
};

struct Gateway {
  AnswerEverything backend_service;
  std::unique_ptr<grpc::Server> backend;
  std::unique_ptr<crm::gateway::RouteTable> routes;
  std::unique_ptr<crm::gateway::Backends> backends;
  std::unique_ptr<crm::auth::Authenticator> authenticator;
  std::unique_ptr<crm::gateway::GatewayServer> server;
  std::string token;
};

Gateway& TheGateway() {
  static Gateway* gateway = [] {
    spdlog::set_level(spdlog::level::warn);  // one access-log line per execution is too many
    auto* g = new Gateway;
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterCallbackGenericService(&g->backend_service);
    g->backend = builder.BuildAndStart();
    // Referencing each service's file keeps its descriptors in the binary (static linking).
    (void)crm::contacts::v1::CreateContactRequest::descriptor();
    (void)crm::pipeline::v1::CreateDealRequest::descriptor();
    (void)crm::tasks::v1::CreateTaskRequest::descriptor();
    (void)crm::reporting::v1::RunReportRequest::descriptor();
    g->routes = std::make_unique<crm::gateway::RouteTable>(
        *crm::gateway::RouteTable::Build({{"crm.contacts.v1.ContactsService", "contacts"},
                                          {"crm.pipeline.v1.PipelineService", "pipeline"},
                                          {"crm.tasks.v1.TasksService", "tasks"},
                                          {"crm.reporting.v1.ReportingService", "reporting"}}));
    const std::string address = absl::StrCat("127.0.0.1:", port);
    g->backends = std::make_unique<crm::gateway::Backends>(std::map<std::string, std::string>{
        {"contacts", address}, {"pipeline", address}, {"tasks", address}, {"reporting", address}});
    crm::auth::AuthOptions auth;
    auth.hs256_secret = kSecret;
    g->authenticator = *crm::auth::Authenticator::Create(auth);
    crm::gateway::GatewayOptions options;
    options.http.listen = "127.0.0.1:0";
    options.http.threads = 2;  // as the gateway runs
    options.http.header_timeout = absl::Milliseconds(50);
    options.http.body_timeout = absl::Milliseconds(50);
    options.rate_per_second = 1e9;
    options.rate_burst = 1000000000;
    options.refusal_rate_per_second = 1e9;
    options.refusal_burst = 1000000000;
    options.cors_origins = {"*"};
    g->server = std::make_unique<crm::gateway::GatewayServer>(
        *g->routes, *g->backends, *g->authenticator, std::make_shared<prometheus::Registry>(),
        options);
    if (!g->server->Start().ok()) std::abort();
    crm::auth::Claims claims;
    claims.subject = "fuzz";
    claims.tenant = "fuzz";
    claims.roles = {"admin"};
    claims.expires = absl::Now() + absl::Hours(12);
    g->token = crm::auth::SignHs256(claims, kSecret);
    return g;
  }();
  return *gateway;
}

// Sends `input` on a fresh connection, says it is done sending, and reads the first answer.
absl::StatusOr<crm::testing::RawResponse> Exchange(int port, const std::string& input) {
  auto connection = crm::testing::RawHttp::Connect(port);
  if (!connection.ok()) return connection.status();
  if (absl::Status sent = connection->Send(input); !sent.ok()) return sent;
  // Nothing more comes: a request left unfinished ends with the connection, not a deadline.
  shutdown(connection->fd(), SHUT_WR);
  return connection->Read(absl::Seconds(3));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Gateway& gateway = TheGateway();
  const std::string input = absl::StrReplaceAll(crm::fuzz::Absl(crm::fuzz::AsView(data, size)),
                                                {{"$TOKEN", gateway.token}});
  // A request whose headers ended and that announces no body is always answered (with 400 when
  // malformed): the gateway never just drops it. (HEAD answers carry no body to read.)
  const size_t head_end = input.find("\r\n\r\n");
  const std::string head = absl::AsciiStrToLower(input.substr(0, head_end));
  const bool must_answer = head_end != std::string::npos && !absl::StartsWith(head, "head ") &&
                           !absl::StrContains(head, "content-length") &&
                           !absl::StrContains(head, "transfer-encoding");
  absl::StatusOr<crm::testing::RawResponse> answer = Exchange(gateway.server->port(), input);
  // Client and server share this process: once in tens of thousands of runs an answer waits
  // for an unrelated wake-up of the event loop (never seen with the client in another process,
  // 650,000 requests). An input is at fault only if it goes unanswered twice.
  if (!answer.ok() && must_answer) answer = Exchange(gateway.server->port(), input);
  if (answer.ok()) {
    CRM_FUZZ_CHECK(answer->status >= 100 && answer->status <= 599);
    CRM_FUZZ_CHECK(answer->status != 500);
  } else {
    CRM_FUZZ_CHECK(!must_answer);
  }
  return 0;
}
