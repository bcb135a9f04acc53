// The process boundary under attack, driven from the routes as the security sweep is: every byte
// in every input the gateway reads, slow and stalled clients, clients that never read, floods of
// every streaming RPC and server-sent event route, a tenant running expensive but legal work.
// After each, the same processes (same pids) still serve another tenant.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "common/auth/authenticator.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/raw_http.h"
#include "common/testing/served_services.h"
#include "common/testing/wait.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/gateway/routes.h"
#include "tests/e2e/stack.h"

namespace crm {
namespace {

namespace pb = google::protobuf;
using testing::RawHttp;
using testing::RawResponse;

std::string Bearer(const std::string& tenant, const std::string& user, const std::string& role) {
  return "Bearer " + testing::MintToken(tenant, user, {role});
}

// A concrete path for a route's template, each variable filled with an id of its pattern, and
// where a probe's byte goes: at the end of the first variable's value, else before the verb.
struct ConcretePath {
  std::string path;
  size_t insert_at = 0;
};

ConcretePath Concrete(const std::string& path_template) {
  ConcretePath out;
  bool placed = false;
  for (size_t i = 0; i < path_template.size();) {
    if (path_template[i] != '{') {
      if (path_template[i] == ':' && !placed) {
        out.insert_at = out.path.size();
        placed = true;
      }
      out.path += path_template[i++];
      continue;
    }
    const size_t end = path_template.find('}', i);
    const std::string variable = path_template.substr(i + 1, end - i - 1);
    const size_t equals = variable.find('=');
    std::string pattern = equals == std::string::npos ? "*" : variable.substr(equals + 1);
    pattern = absl::StrReplaceAll(pattern, {{"**", "x"}});
    out.path += absl::StrReplaceAll(pattern, {{"*", ids::NewUuidV7()}});
    if (!placed) {
      out.insert_at = out.path.size();
      placed = true;
    }
    i = end + 1;
  }
  if (!placed) out.insert_at = out.path.size();
  return out;
}

// The first string field of the request that the path does not bind: a query parameter the
// transcoder reads for this route.
std::string QueryField(const gateway::Route& route) {
  const std::vector<std::string> bound = route.path.FieldPaths();
  const pb::Descriptor* input = route.method->input_type();
  for (int i = 0; i < input->field_count(); ++i) {
    const pb::FieldDescriptor* field = input->field(i);
    if (field->type() != pb::FieldDescriptor::TYPE_STRING || field->is_repeated()) continue;
    if (std::find(bound.begin(), bound.end(), field->name()) != bound.end()) continue;
    return field->json_name();
  }
  return "x";
}

std::string PercentByte(int b) { return absl::StrFormat("%%%02X", b); }

const tasks::v1::WatchNotificationsRequest kWatchRequest;

class HostileClients : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::StackOptions options;
    // Short deadlines, so stalled clients are seen off within the test; no rate limit in the
    // way of the byte sweep (the refusal limit has its own test).
    options.gateway_flags = {"--header_timeout_ms=1000",
                             "--body_timeout_ms=1000",
                             "--idle_timeout_ms=5000",
                             "--write_timeout_ms=2000",
                             "--rate_burst=100000000",
                             "--rate_per_second=100000000",
                             "--refusal_rate_per_second=1000000",
                             "--max_body_bytes=65536"};
    auto stack = testing::Stack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    for (auto* process : {&stack_->contacts(), &stack_->pipeline(), &stack_->tasks(),
                          &stack_->reporting(), &stack_->gateway()}) {
      pids_.push_back(process->pid());
    }
    auto routes = gateway::RouteTable::Build(testing::ServedServices());
    ASSERT_TRUE(routes.ok()) << routes.status();
    routes_ = new gateway::RouteTable(*std::move(routes));
  }
  static void TearDownTestSuite() {
    delete routes_;
    delete stack_;
  }

  static int port() { return stack_->gateway_port(); }

  // One request on a fresh connection; the answer's status, or 0 with no answer.
  static RawResponse Ask(const std::string& request, absl::Duration timeout = absl::Seconds(5)) {
    auto connection = RawHttp::Connect(port());
    if (!connection.ok()) return {};
    if (!connection->Send(request).ok()) return {};
    return connection->Read(timeout).value_or(RawResponse{});
  }

  // The processes started with the stack are the ones running, and they serve a tenant that
  // took no part in the attack: health, and a write and a read through the gateway.
  static void ExpectTheSameProcessesServeAnotherTenant(const std::string& after) {
    SCOPED_TRACE(after);
    for (pid_t pid : pids_) {
      int status = 0;
      EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "process " << pid << " ended";
      EXPECT_EQ(kill(pid, 0), 0) << "process " << pid << " is gone";
    }
    EXPECT_EQ(Ask("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status, 200);
    const std::string bystander = Bearer("bystander", "bea", "rep");
    const std::string email = absl::StrCat("bea-", ids::NewUuidV7(), "@bystander.example");
    const std::string body = absl::StrCat(R"({"givenName":"Bea","emails":[")", email, R"("]})");
    const RawResponse created = Ask(absl::StrCat(
        "POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ", bystander,
        "\r\nContent-Type: application/json\r\nContent-Length: ", body.size(), "\r\n\r\n", body));
    EXPECT_EQ(created.status, 200) << created.head << created.body;
    const RawResponse listed = Ask(absl::StrCat(
        "GET /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ", bystander, "\r\n\r\n"));
    EXPECT_EQ(listed.status, 200);
    EXPECT_THAT(listed.body, ::testing::HasSubstr(email));
    for (auto* process :
         {&stack_->contacts(), &stack_->pipeline(), &stack_->tasks(), &stack_->reporting()}) {
      auto health = grpc::health::v1::Health::NewStub(testing::LocalChannel(process->grpc_port()));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      grpc::health::v1::HealthCheckResponse response;
      EXPECT_TRUE(health->Check(&context, {}, &response).ok());
      EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    }
  }

  static testing::Stack* stack_;
  static std::vector<pid_t> pids_;
  static gateway::RouteTable* routes_;
};

testing::Stack* HostileClients::stack_ = nullptr;
std::vector<pid_t> HostileClients::pids_;
gateway::RouteTable* HostileClients::routes_ = nullptr;

// One request of the byte sweep, and what it is for (in failure messages).
struct Probe {
  std::string what;
  std::string request;
};

// Sends every probe (several workers, keep-alive where the server keeps the connection) and
// returns the probes that got no proper answer: no HTTP answer at all, or a 500.
std::vector<std::string> SendAll(int gateway_port, const std::vector<Probe>& probes,
                                 std::map<int, int>* statuses) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto worker = [&] {
    std::optional<RawHttp> connection;
    for (size_t i = next++; i < probes.size(); i = next++) {
      if (!connection.has_value()) {
        auto opened = RawHttp::Connect(gateway_port);
        if (!opened.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          failures.push_back(probes[i].what + ": cannot connect");
          continue;
        }
        connection.emplace(*std::move(opened));
      }
      absl::StatusOr<RawResponse> answer = connection->Send(probes[i].request).ok()
                                               ? connection->Read(absl::Seconds(10))
                                               : absl::UnavailableError("send failed");
      if (answer.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        ++(*statuses)[answer->status];
      }
      if (!answer.ok() || answer->status < 100 || answer->status > 599 || answer->status == 500) {
        std::lock_guard<std::mutex> lock(mu);
        failures.push_back(absl::StrCat(probes[i].what, ": ",
                                        answer.ok() ? answer->head : answer.status().ToString()));
      }
      // A closing answer, a stream, or a failure: the next probe gets a new connection.
      if (!answer.ok() || answer->closes || answer->chunked) connection.reset();
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) workers.emplace_back(worker);
  for (auto& t : workers) t.join();
  return failures;
}

TEST_F(HostileClients, EveryByteInEveryHeaderParameterAndPathSegmentOfEveryRoute) {
  const std::string token = Bearer("hostile-bytes", "hb", "admin");
  std::vector<Probe> probes;
  auto request = [](const std::string& verb, const std::string& target, const std::string& headers,
                    bool with_body) {
    return absl::StrCat(verb, " ", target, " HTTP/1.1\r\nHost: x\r\n", headers,
                        with_body ? "Content-Type: application/json\r\nContent-Length: 2\r\n" : "",
                        "\r\n", with_body ? "{}" : "");
  };
  std::map<std::string, const gateway::Route*> one_per_verb;
  for (const gateway::Route& route : routes_->routes()) {
    one_per_verb.emplace(route.verb + (route.server_streaming ? "-stream" : ""), &route);
    const bool body = !route.body.empty();
    const ConcretePath concrete = Concrete(route.path.text());
    const std::string& path = concrete.path;
    const size_t at = concrete.insert_at;
    const std::string field = QueryField(route);
    const std::string auth = absl::StrCat("Authorization: ", token, "\r\n");
    for (int b = 0; b < 256; ++b) {
      const std::string raw(1, static_cast<char>(b));
      const std::string label = absl::StrCat(route.verb, " ", route.path.text(), " byte ", b);
      auto with = [&](const std::string& at_path, const std::string& query,
                      const std::string& extra) {
        return request(route.verb, at_path + query, auth + extra, body);
      };
      const std::string raw_path = path.substr(0, at) + raw + path.substr(at);
      const std::string encoded_path = path.substr(0, at) + PercentByte(b) + path.substr(at);
      probes.push_back({label + " in the path", with(raw_path, "", "")});
      probes.push_back({label + " %-encoded in the path", with(encoded_path, "", "")});
      probes.push_back({label + " in alt", with(path, "?alt=" + raw, "")});
      probes.push_back({label + " %-encoded in alt", with(path, "?alt=" + PercentByte(b), "")});
      probes.push_back({label + " in " + field, with(path, "?" + field + "=a" + raw, "")});
      probes.push_back(
          {label + " %-encoded in " + field, with(path, "?" + field + "=a" + PercentByte(b), "")});
      probes.push_back({label + " in If-Match", with(path, "", "If-Match: \"e" + raw + "\"\r\n")});
    }
  }
  // Headers the gateway reads before routing, on one route of each verb (and the stream).
  for (const auto& [verb, route] : one_per_verb) {
    const std::string path = Concrete(route->path.text()).path;
    const bool body = !route->body.empty();
    for (int b = 0; b < 256; ++b) {
      const std::string raw(1, static_cast<char>(b));
      const std::string label = absl::StrCat(verb, " ", route->path.text(), " byte ", b);
      for (const auto& [name, value] :
           std::vector<std::pair<std::string, std::string>>{{"Authorization", token + raw},
                                                            {"Authorization", "Bearer " + raw},
                                                            {"Origin", "http://a" + raw},
                                                            {"Grpc-Timeout", "5" + raw},
                                                            {"X-Timeout-Ms", "1" + raw},
                                                            {"Expect", raw}}) {
        std::string headers = absl::StrCat(name, ": ", value, "\r\n");
        if (name != "Authorization") headers += absl::StrCat("Authorization: ", token, "\r\n");
        probes.push_back(
            {absl::StrCat(label, " in ", name), request(route->verb, path, headers, body)});
      }
      // The token in the query, as a browser-loaded page sends it.
      probes.push_back({label + " in access_token",
                        request(route->verb, path + "?access_token=" + PercentByte(b), "", body)});
    }
  }
  const absl::Time start = absl::Now();
  std::map<int, int> statuses;
  const std::vector<std::string> failures = SendAll(port(), probes, &statuses);
  std::cout << "byte sweep: " << probes.size() << " requests over " << routes_->routes().size()
            << " routes in " << absl::ToInt64Milliseconds(absl::Now() - start)
            << " ms; answers by status: " << ::testing::PrintToString(statuses) << "\n";
  // The sweep reached the backends, not only the parser: most probes are well-formed requests.
  EXPECT_GT(statuses[404] + statuses[200] + statuses[403], static_cast<int>(probes.size() / 10));
  EXPECT_TRUE(failures.empty()) << failures.size() << " without a proper answer, e.g. "
                                << ::testing::PrintToString(std::vector<std::string>(
                                       failures.begin(),
                                       failures.begin() + std::min<size_t>(failures.size(), 8)));
  ExpectTheSameProcessesServeAnotherTenant("the byte sweep");
}

TEST_F(HostileClients, AThousandStalledClientsAndSomeThatNeverReadAreSeenOff) {
  const std::string token = Bearer("hostile-slow", "slow", "rep");
  std::vector<RawHttp> mid_headers, mid_body, silent;
  for (int i = 0; i < 1000; ++i) {
    auto connection = RawHttp::Connect(port());
    ASSERT_TRUE(connection.ok()) << connection.status();
    if (i % 5 == 0) {
      silent.push_back(*std::move(connection));  // connected, sends nothing
    } else if (i % 5 <= 2) {
      ASSERT_TRUE(connection->Send("GET /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthoriz").ok());
      mid_headers.push_back(*std::move(connection));
    } else {
      ASSERT_TRUE(
          connection
              ->Send(absl::StrCat("POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ", token,
                                  "\r\nContent-Length: 100\r\n\r\n{\"givenName\":"))
              .ok());
      mid_body.push_back(*std::move(connection));
    }
  }
  // Clients that ask for a large answer and never read it: pipelined, so the gateway's writes
  // fill the socket and then wait on a reader that does not come.
  std::vector<RawHttp> never_read;
  for (int i = 0; i < 20; ++i) {
    auto connection = RawHttp::Connect(port(), /*small_receive_buffer=*/true);
    ASSERT_TRUE(connection.ok());
    std::string requests;
    for (int r = 0; r < 40; ++r)
      absl::StrAppend(&requests, "GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(connection->Send(requests).ok());
    never_read.push_back(*std::move(connection));
  }
  // Meanwhile everyone else is served.
  ExpectTheSameProcessesServeAnotherTenant("1,000 stalled connections");
  // Stalled requests end with 408 after the header or body deadline (1 s here); silent
  // connections are closed after the idle timeout (5 s); the ones that never read are dropped
  // once a write waited its deadline (2 s).
  int timed_out = 0;
  for (auto* group : {&mid_headers, &mid_body}) {
    for (RawHttp& connection : *group) {
      absl::StatusOr<RawResponse> answer = connection.Read(absl::Seconds(10));
      if (answer.ok() && answer->status == 408) ++timed_out;
    }
  }
  EXPECT_EQ(timed_out, static_cast<int>(mid_headers.size() + mid_body.size()));
  int closed = 0;
  for (RawHttp& connection : silent) closed += connection.ClosedWithin(absl::Seconds(10));
  EXPECT_EQ(closed, static_cast<int>(silent.size()));
  int dropped = 0;
  for (RawHttp& connection : never_read) {
    // Reading now gets what was buffered, then the end the server put there.
    dropped += connection.ClosedWithin(absl::Seconds(10));
  }
  EXPECT_EQ(dropped, static_cast<int>(never_read.size()));
  ExpectTheSameProcessesServeAnotherTenant("the stalled clients");
}

// A gRPC server stream held open by a test (callback API: no thread per stream).
template <typename Message>
class HeldStream final : public grpc::ClientReadReactor<Message> {
 public:
  explicit HeldStream(const std::string& token) {
    context_.AddMetadata("authorization", "Bearer " + token);
  }
  grpc::ClientContext* context() { return &context_; }
  // After the stub's async() call that binds this reactor.
  void Begin() {
    this->StartRead(&message_);
    this->StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) open_.Notify();
  }
  void OnReadDone(bool ok) override {
    if (ok) this->StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  // Whether the server accepted the stream (sent its headers) within `timeout`; false when it
  // refused it (see status()).
  bool WaitOpen(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (open_.HasBeenNotified()) return true;
      if (done_.HasBeenNotified()) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return open_.HasBeenNotified();
  }
  grpc::Status Close() {
    context_.TryCancel();
    done_.WaitForNotification();
    return status_;
  }
  grpc::Status status() {
    done_.WaitForNotification();
    return status_;
  }

 private:
  grpc::ClientContext context_;
  Message message_;
  absl::Notification open_, done_;
  grpc::Status status_;
};

TEST_F(HostileClients, FloodsOfEveryStreamAreBoundedAndIdleOnesCostOthersNothing) {
  auto tasks = tasks::v1::TasksService::NewStub(testing::LocalChannel(stack_->tasks().grpc_port()));
  // 2,000 idle watches of one tenant on one replica (250 users, 8 each: the per-user bound).
  std::vector<std::unique_ptr<HeldStream<tasks::v1::Notification>>> watches;
  for (int user = 0; user < 250; ++user) {
    const std::string token =
        testing::MintToken("hostile-streams", absl::StrCat("u", user), {"rep"});
    for (int i = 0; i < 8; ++i) {
      auto watch = std::make_unique<HeldStream<tasks::v1::Notification>>(token);
      tasks->async()->WatchNotifications(watch->context(), &kWatchRequest, watch.get());
      watch->Begin();
      watches.push_back(std::move(watch));
    }
  }
  int open = 0;
  for (auto& watch : watches) open += watch->WaitOpen(absl::Seconds(30));
  EXPECT_EQ(open, 2000);
  // A ninth for one user is refused; the flood of one user is bounded.
  HeldStream<tasks::v1::Notification> ninth(testing::MintToken("hostile-streams", "u0", {"rep"}));
  tasks->async()->WatchNotifications(ninth.context(), &kWatchRequest, &ninth);
  ninth.Begin();
  EXPECT_FALSE(ninth.WaitOpen(absl::Seconds(10)));
  EXPECT_EQ(ninth.status().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another tenant's calls and every health check are served while they are open.
  ExpectTheSameProcessesServeAnotherTenant("2,000 idle watches");

  // The event stream, exports and imports: per caller at most 8 at once, the rest refused.
  auto events =
      crm::common::v1::EventStream::NewStub(testing::LocalChannel(stack_->contacts().grpc_port()));
  std::vector<std::unique_ptr<HeldStream<crm::common::v1::Event>>> subscriptions;
  const std::string service = testing::MintServiceToken("flood");
  crm::common::v1::SubscribeRequest idle;
  idle.set_after_position(1LL << 62);  // nothing to send: an idle subscription
  int accepted = 0;
  for (int i = 0; i < 12; ++i) {
    auto sub = std::make_unique<HeldStream<crm::common::v1::Event>>(service);
    events->async()->Subscribe(sub->context(), &idle, sub.get());
    sub->Begin();
    if (sub->WaitOpen(absl::Seconds(10))) {
      ++accepted;
    } else {
      EXPECT_EQ(sub->status().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
    subscriptions.push_back(std::move(sub));
  }
  EXPECT_EQ(accepted, 8) << "one caller holds at most 8 subscriptions";
  ExpectTheSameProcessesServeAnotherTenant("a subscription flood");
  for (auto& sub : subscriptions) sub->Close();

  // Imports held open mid-file by one user (exports share the same bound).
  auto contacts =
      contacts::v1::ContactsService::NewStub(testing::LocalChannel(stack_->contacts().grpc_port()));
  const std::string importer = testing::MintToken("hostile-streams", "importer", {"rep"});
  struct Import {
    std::unique_ptr<grpc::ClientContext> context;
    contacts::v1::ImportContactsResponse response;
    std::unique_ptr<grpc::ClientWriter<contacts::v1::ImportContactsRequest>> writer;
  };
  std::vector<Import> imports(9);
  for (int i = 0; i < 9; ++i) {
    imports[i].context = testing::AuthedContext(importer);
    imports[i].context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    imports[i].writer = contacts->ImportContacts(imports[i].context.get(), &imports[i].response);
    contacts::v1::ImportContactsRequest first;
    first.mutable_options()->set_import_id(absl::StrCat("held-", i, "-", ids::NewUuidV7()));
    imports[i].writer->Write(first);
    contacts::v1::ImportContactsRequest chunk;
    chunk.set_chunk("email\n");  // a header, then nothing more for now
    imports[i].writer->Write(chunk);
    // Accepted (headers) or refused (the error) before the next begins.
    imports[i].writer->WaitForInitialMetadata();
  }
  imports[8].writer->WritesDone();
  EXPECT_EQ(imports[8].writer->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ExpectTheSameProcessesServeAnotherTenant("imports held open");
  for (int i = 0; i < 8; ++i) {
    imports[i].writer->WritesDone();
    EXPECT_TRUE(imports[i].writer->Finish().ok()) << "held import " << i;
  }

  // Server-sent events through the gateway: 8 per user, the ninth 429.
  const std::string sse_user = Bearer("hostile-streams", "sse", "rep");
  std::vector<RawHttp> sse;
  for (int i = 0; i < 8; ++i) {
    auto connection = RawHttp::Connect(port());
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection
                    ->Send(absl::StrCat("GET /v1/notifications:watch HTTP/1.1\r\nHost: x\r\n"
                                        "Authorization: ",
                                        sse_user, "\r\n\r\n"))
                    .ok());
    absl::StatusOr<RawResponse> head = connection->Read(absl::Seconds(10));
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->chunked);
    sse.push_back(*std::move(connection));
  }
  const RawResponse ninth_sse = Ask(absl::StrCat(
      "GET /v1/notifications:watch HTTP/1.1\r\nHost: x\r\nAuthorization: ", sse_user, "\r\n\r\n"));
  EXPECT_EQ(ninth_sse.status, 429);
  ExpectTheSameProcessesServeAnotherTenant("server-sent event streams");
  sse.clear();  // hang up: the gateway frees the slots at once
  for (auto& watch : watches) watch->Close();
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        return Ask(absl::StrCat("GET /v1/notifications:watch HTTP/1.1\r\nHost: x\r\n"
                                "Authorization: ",
                                sse_user, "\r\n\r\n"))
                   .status == 200;
      },
      absl::Seconds(10)));
}

TEST_F(HostileClients, ATenantRunningExpensiveQueriesGetsItsShareAndOthersAreServed) {
  const std::string heavy = Bearer("hostile-heavy", "hank", "manager");
  // Some data to chew on, and a 64-term filter (the most a filter may have).
  for (int i = 0; i < 200; ++i) {
    const std::string body =
        absl::StrCat(R"({"givenName":"H)", i, R"(","tags":["t)", i % 50, R"("],"emails":["h)", i,
                     "-", ids::NewUuidV7(), R"(@heavy.example"]})");
    ASSERT_EQ(Ask(absl::StrCat("POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ", heavy,
                               "\r\nContent-Length: ", body.size(), "\r\n\r\n", body))
                  .status,
              200);
  }
  std::string filter;
  for (int t = 0; t < 64; ++t) {
    absl::StrAppend(&filter, t == 0 ? "" : "%20OR%20", "given_name%20%3D%20%22H", t, "%2A%22");
  }
  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, shed{0}, other{0};
  std::vector<std::thread> load;
  for (int w = 0; w < 24; ++w) {
    load.emplace_back([&] {
      while (!stop) {
        const RawResponse r =
            Ask(absl::StrCat("GET /v1/contacts?pageSize=1000&filter=", filter,
                             " HTTP/1.1\r\nHost: x\r\nAuthorization: ", heavy, "\r\n\r\n"));
        if (r.status == 200) {
          ++served;
        } else if (r.status == 429) {
          ++shed;  // its share of the database is busy: retry later
        } else {
          ++other;
        }
      }
    });
  }
  // While the heavy tenant keeps its share busy, another tenant is served.
  absl::SleepFor(absl::Seconds(1));
  for (int i = 0; i < 5; ++i) ExpectTheSameProcessesServeAnotherTenant("an expensive tenant");
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_GT(served.load(), 0);
  EXPECT_EQ(other.load(), 0) << "the heavy tenant got errors other than 200 and 429";
  std::cout << "expensive tenant: served=" << served << " shed=" << shed << "\n";
}

TEST_F(HostileClients, TokensThatClaimTooMuchAreRefusedAtTheGateway) {
  auto status_of = [&](const std::string& authorization) {
    return Ask(absl::StrCat("GET /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ",
                            authorization, "\r\n\r\n"))
        .status;
  };
  // The service identity is not a role a tenant's token issuer can grant, and the gateway holds
  // no service secret: neither form gets in.
  EXPECT_EQ(status_of(Bearer("hostile-tokens", "mallory", "service")), 401);
  EXPECT_EQ(status_of("Bearer " + testing::MintServiceToken("mallory")), 401);
  // A token minted for a year, though young.
  auth::Claims year;
  year.subject = "mallory";
  year.tenant = "hostile-tokens";
  year.roles = {"admin"};
  year.expires = absl::Now() + absl::Hours(24 * 365);
  EXPECT_EQ(status_of("Bearer " + auth::SignHs256(year, testing::kTestJwtSecret)), 401);
  // Signed with another key, or with alg none.
  EXPECT_EQ(status_of("Bearer " + testing::MintToken("hostile-tokens", "m", {"admin"},
                                                     "another-secret-0123456789abcdef-012")),
            401);
  EXPECT_EQ(status_of("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJtIn0."), 401);
  // The same user written with other case and spacing is one caller, not two rate buckets.
  const std::string token = testing::MintToken("hostile-tokens", "alice", {"rep"});
  EXPECT_EQ(status_of("Bearer " + token), 200);
  EXPECT_EQ(status_of("bearer   " + token), 200);
  ExpectTheSameProcessesServeAnotherTenant("forged and over-long tokens");
}

}  // namespace
}  // namespace crm
