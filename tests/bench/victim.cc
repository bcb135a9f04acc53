// What another tenant sees while one client attacks (make bench, tests/bench/under_attack.sh):
// the victim's latency first alone (the baseline), then under the attack, measured the same way
// in the same run. Prints one `key=value` line.
//
//   victim --mode=stalled_http --gateway=127.0.0.1:8080 --attackers=1000
//       1,000 connections kept stalled mid-request (re-opened as the gateway ends them); the
//       victim calls /healthz and GET a contact through the gateway.
//   victim --mode=idle_streams --target=127.0.0.1:50053 --attackers=2000
//       2,000 idle WatchNotifications of one tenant; the victim (another tenant) calls ListTasks
//       and Health on the same replica.
//   victim --mode=pool_share --target=127.0.0.1:50051 --attackers=32
//       one tenant keeps 32 expensive filtered lists in flight; the victim reads a contact.
//   victim --mode=sse --gateway=127.0.0.1:8080 --attackers=5000 --gateway_pid=N
//       5,000 open server-sent event streams on one gateway; prints how many opened and the
//       gateway's resident memory per stream.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "common/ids/uuid.h"
#include "common/testing/raw_http.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, mode, "stalled_http", "stalled_http | idle_streams | pool_share | sse");
ABSL_FLAG(std::string, gateway, "127.0.0.1:8080", "gateway host:port");
ABSL_FLAG(std::string, target, "127.0.0.1:50051", "service host:port");
ABSL_FLAG(int, attackers, 1000, "stalled connections, idle streams, heavy calls or SSE streams");
ABSL_FLAG(double, seconds, 10, "measurement time of each phase");
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file");
ABSL_FLAG(int, gateway_pid, 0, "sse: the gateway's pid, for its resident memory");

namespace {

namespace contacts = crm::contacts::v1;
namespace tasks = crm::tasks::v1;
using crm::testing::RawHttp;

std::string Secret() { return *crm::auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret)); }

std::string Token(const std::string& tenant, const std::string& user,
                  const std::string& role = "rep") {
  crm::auth::Claims claims;
  claims.subject = user;
  claims.tenant = tenant;
  claims.roles = {role};
  claims.expires = absl::Now() + absl::Hours(2);
  return crm::auth::SignHs256(claims, Secret());
}

int PortOf(const std::string& address) {
  int port = 0;
  (void)absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port);
  return port;
}

double P99(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(v.size() * 0.99))];
}

// Calls `call` in a closed loop for `seconds`; latencies in ms, and the number of failures.
std::pair<std::vector<double>, int> Measure(const std::function<bool()>& call) {
  std::vector<double> ms;
  int failures = 0;
  const absl::Time end = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_seconds));
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    const bool ok = call();
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!ok) ++failures;
  }
  return {ms, failures};
}

// One HTTP call on a kept connection (re-opened when the server closes it).
class HttpCaller {
 public:
  explicit HttpCaller(int port) : port_(port) {}
  bool Call(const std::string& request) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connection_.has_value()) {
        auto opened = RawHttp::Connect(port_);
        if (!opened.ok()) return false;
        connection_.emplace(*std::move(opened));
      }
      if (connection_->Send(request).ok()) {
        auto answer = connection_->Read(absl::Seconds(10));
        if (answer.ok()) {
          if (answer->closes) connection_.reset();
          return answer->status == 200;
        }
      }
      connection_.reset();
    }
    return false;
  }

 private:
  int port_;
  std::optional<RawHttp> connection_;
};

void PrintPhases(const std::string& what, const std::pair<std::vector<double>, int>& alone,
                 const std::pair<std::vector<double>, int>& attacked,
                 const std::string& extra = "") {
  std::printf(
      "mode=%s baseline_p99_ms=%.2f attacked_p99_ms=%.2f baseline_calls=%zu attacked_calls=%zu "
      "attacked_failures=%d%s\n",
      what.c_str(), P99(alone.first), P99(attacked.first), alone.first.size(),
      attacked.first.size(), attacked.second, extra.c_str());
}

int StalledHttp() {
  const int port = PortOf(absl::GetFlag(FLAGS_gateway));
  const std::string token = Token("bench-victim", "vic");
  // The victim's contact, read through the gateway.
  HttpCaller setup(port);
  const std::string body = absl::StrCat(R"({"givenName":"Vic","emails":["vic-)",
                                        crm::ids::NewUuidV7(), R"(@v.example"]})");
  auto created = RawHttp::Connect(port);
  if (!created.ok()) return 1;
  (void)created->Send(
      absl::StrCat("POST /v1/contacts HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer ", token,
                   "\r\nContent-Length: ", body.size(), "\r\n\r\n", body));
  auto answer = created->Read(absl::Seconds(10));
  if (!answer.ok() || answer->status != 200) return 1;
  const size_t at = answer->body.find("contacts/");
  const std::string name = answer->body.substr(at, answer->body.find('"', at) - at);
  const std::string get = absl::StrCat(
      "GET /v1/", name, " HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer ", token, "\r\n\r\n");
  const std::string health = "GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n";
  HttpCaller api(port), probe(port);
  auto victim = [&] { return probe.Call(health) && api.Call(get); };
  const auto alone = Measure(victim);
  // The attack: connections that send half a request and stop; ended ones are replaced.
  std::atomic<bool> stop{false};
  std::atomic<int> opened{0};
  std::thread attacker([&] {
    std::vector<std::optional<RawHttp>> stalled(absl::GetFlag(FLAGS_attackers));
    while (!stop) {
      for (size_t i = 0; i < stalled.size() && !stop; ++i) {
        if (stalled[i].has_value() && !stalled[i]->ClosedWithin(absl::ZeroDuration())) continue;
        auto c = RawHttp::Connect(port);
        if (!c.ok()) continue;
        (void)c->Send(i % 2
                          ? "GET /v1/contacts HTTP/1.1\r\nHost: b\r\nAuthoriz"
                          : "POST /v1/contacts HTTP/1.1\r\nHost: b\r\nContent-Length: 99\r\n\r\n{");
        stalled[i].emplace(*std::move(c));
        ++opened;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  while (opened < absl::GetFlag(FLAGS_attackers)) absl::SleepFor(absl::Milliseconds(50));
  const auto attacked = Measure(victim);
  stop = true;
  attacker.join();
  PrintPhases("stalled_http", alone, attacked, absl::StrCat(" stalled_opened=", opened.load()));
  return 0;
}

// A server stream held open (callback API: no thread per stream).
class Watch final : public grpc::ClientReadReactor<tasks::Notification> {
 public:
  Watch(tasks::TasksService::Stub& stub, const std::string& token) {
    context_.AddMetadata("authorization", "Bearer " + token);
    stub.async()->WatchNotifications(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) open_.Notify();
  }
  void OnReadDone(bool ok) override {
    if (ok) StartRead(&message_);
  }
  void OnDone(const grpc::Status&) override { done_.Notify(); }
  bool WaitOpen() { return open_.WaitForNotificationWithTimeout(absl::Seconds(30)); }
  void Close() {
    context_.TryCancel();
    done_.WaitForNotification();
  }

 private:
  grpc::ClientContext context_;
  tasks::WatchNotificationsRequest request_;
  tasks::Notification message_;
  absl::Notification open_, done_;
};

int IdleStreams() {
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = tasks::TasksService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials()));
  auto victim_stub = tasks::TasksService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials()));
  const std::string victim_token = Token("bench-victim", "vic");
  auto victim = [&] {
    grpc::ClientContext a, b;
    a.AddMetadata("authorization", "Bearer " + victim_token);
    a.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    b.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    tasks::ListTasksRequest list;
    list.set_page_size(10);
    tasks::ListTasksResponse listed;
    grpc::health::v1::HealthCheckResponse checked;
    return victim_stub->ListTasks(&a, list, &listed).ok() && health->Check(&b, {}, &checked).ok();
  };
  const auto alone = Measure(victim);
  std::vector<std::unique_ptr<Watch>> watches;
  const int n = absl::GetFlag(FLAGS_attackers);
  for (int i = 0; i < n; ++i) {
    watches.push_back(
        std::make_unique<Watch>(*stub, Token("bench-attacker", absl::StrCat("u", i / 8))));
  }
  int open = 0;
  for (auto& w : watches) open += w->WaitOpen();
  const auto attacked = Measure(victim);
  for (auto& w : watches) w->Close();
  PrintPhases("idle_streams", alone, attacked, absl::StrCat(" streams_open=", open));
  return 0;
}

int PoolShare() {
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = contacts::ContactsService::NewStub(channel);
  const std::string heavy = Token("bench-heavy", "hank", "manager");
  const std::string victim_token = Token("bench-victim", "vic");
  auto create = [&](const std::string& token, int i, const std::string& domain) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    contacts::CreateContactRequest request;
    request.mutable_contact()->set_given_name(absl::StrCat("Name", i));
    request.mutable_contact()->set_family_name(absl::StrCat("Family", i % 97));
    request.mutable_contact()->add_tags(absl::StrCat("t", i % 50));
    request.mutable_contact()->add_emails(
        absl::StrCat("c", i, "-", crm::ids::NewUuidV7(), "@", domain));
    contacts::Contact out;
    return stub->CreateContact(&context, request, &out).ok() ? out.name() : std::string();
  };
  // The heavy tenant's data: enough that its 64-term filters take real time.
  for (int i = 0; i < 10000; ++i) create(heavy, i, "heavy.example");
  const std::string victim_contact = create(victim_token, 0, "victim.example");
  std::string filter;
  for (int t = 0; t < 64; ++t) {  // 64 prefix terms: the most a filter may have
    absl::StrAppend(&filter, t == 0 ? "" : " OR ", "given_name = \"Name", t, "*\"");
  }
  auto victim = [&] {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + victim_token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    contacts::GetContactRequest get;
    get.set_name(victim_contact);
    contacts::Contact out;
    return stub->GetContact(&context, get, &out).ok();
  };
  const auto alone = Measure(victim);
  std::atomic<bool> stop{false};
  std::atomic<int> heavy_ok{0}, heavy_shed{0}, heavy_failed{0};
  std::mutex first_failure_mu;
  std::string first_failure;
  std::vector<std::thread> attackers;
  for (int w = 0; w < absl::GetFlag(FLAGS_attackers); ++w) {
    attackers.emplace_back([&] {
      while (!stop) {
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + heavy);
        contacts::ListContactsRequest list;
        list.set_filter(filter);
        list.set_page_size(100);
        contacts::ListContactsResponse out;
        const grpc::Status status = stub->ListContacts(&context, list, &out);
        if (status.ok()) {
          ++heavy_ok;
        } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
          ++heavy_shed;
          absl::SleepFor(absl::Milliseconds(10));  // what a polite client does: back off a bit
        } else {
          ++heavy_failed;
          std::lock_guard<std::mutex> lock(first_failure_mu);
          if (first_failure.empty()) first_failure = status.error_message();
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  const auto attacked = Measure(victim);
  stop = true;
  for (auto& t : attackers) t.join();
  PrintPhases("pool_share", alone, attacked,
              absl::StrCat(" heavy_served=", heavy_ok.load(), " heavy_shed=", heavy_shed.load(),
                           " heavy_failed=", heavy_failed.load()));
  if (!first_failure.empty()) std::fprintf(stderr, "heavy call failed: %s\n", first_failure.c_str());
  return 0;
}

int64_t ResidentKb(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kb = 0;
      for (absl::string_view part : absl::StrSplit(line.substr(6), ' ', absl::SkipEmpty())) {
        if (absl::SimpleAtoi(part, &kb)) return kb;
      }
    }
  }
  return 0;
}

int Sse() {
  const int port = PortOf(absl::GetFlag(FLAGS_gateway));
  const int pid = absl::GetFlag(FLAGS_gateway_pid);
  const int64_t before = ResidentKb(pid);
  std::vector<RawHttp> streams;
  int open = 0;
  const int n = absl::GetFlag(FLAGS_attackers);
  for (int i = 0; i < n; ++i) {
    // Eight per user (the per-user bound), spread over two tenants (the per-tenant bound).
    const std::string token = Token(absl::StrCat("bench-sse-", i % 2), absl::StrCat("u", i / 16));
    auto c = RawHttp::Connect(port);
    if (!c.ok()) break;
    (void)c->Send(
        absl::StrCat("GET /v1/notifications:watch HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer ",
                     token, "\r\n\r\n"));
    auto head = c->Read(absl::Seconds(30));
    if (head.ok() && head->status == 200 && head->chunked) {
      ++open;
      streams.push_back(*std::move(c));
    }
  }
  absl::SleepFor(absl::Seconds(2));
  const int64_t after = ResidentKb(pid);
  std::printf(
      "mode=sse streams_open=%d gateway_rss_before_kb=%lld gateway_rss_after_kb=%lld "
      "rss_per_stream_kb=%.1f\n",
      open, static_cast<long long>(before), static_cast<long long>(after),
      open > 0 ? static_cast<double>(after - before) / open : 0.0);
  return open > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "stalled_http") return StalledHttp();
  if (mode == "idle_streams") return IdleStreams();
  if (mode == "pool_share") return PoolShare();
  if (mode == "sse") return Sse();
  std::fprintf(stderr, "unknown --mode %s\n", mode.c_str());
  return 2;
}
