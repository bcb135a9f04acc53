// Closed-loop gRPC load generator: N workers each keep one call in flight for a fixed time, then
// it prints throughput and latency percentiles as one `key=value` line (parsed by run.sh).
//
//   loadgen --target=127.0.0.1:50051 --method=get_contact --concurrency=8 --seconds=10
//
// Methods: health (grpc.health.v1.Health/Check), create_contact (unique email per call),
// create_contact_fields (the same with values for the 20 custom fields it defines first),
// get_contact (random reads of contacts the generator creates first), search_contacts,
// move_deal; http_get_contact and http_create_contact make the same calls through the HTTP
// gateway at --http_target (one keep-alive connection per worker).
#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "common/auth/jwt.h"
#include "common/server/server.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "server host:port");
ABSL_FLAG(std::string, http_target, "127.0.0.1:8080", "gateway host:port (http_* methods)");
ABSL_FLAG(std::string, method, "health",
          "health | create_contact | create_contact_fields | get_contact | search_contacts | "
          "list_contacts | filter_contacts | define_fields | move_deal");
ABSL_FLAG(int, concurrency, 8, "calls in flight (one per worker thread)");
ABSL_FLAG(int, channels, 4, "HTTP/2 connections the workers spread over");
ABSL_FLAG(double, seconds, 10, "measurement time");
ABSL_FLAG(double, warmup_seconds, 1, "unmeasured warm-up time");
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file");
ABSL_FLAG(std::string, tenant, "",
          "tenant of the generated token; empty: a new one per run, so unique keys never collide");
ABSL_FLAG(std::string, cpu_of, "",
          "name=pid,...: print the CPU each process spent per call while measuring (a PostgreSQL "
          "postmaster's count includes its backends')");
ABSL_FLAG(int, preload, 2000, "get_contact: contacts created before measuring");
ABSL_FLAG(std::string, filter, "custom_fields.external_id = \"ext-{n}\"",
          "filter_contacts: the ListContacts filter, {n} replaced by a random 1..filter_range");
ABSL_FLAG(int64_t, filter_range, 1000000, "filter_contacts: the largest {n}");
ABSL_FLAG(std::string, queries, "anna,petrosian,ivanov,boris@,smith,garcia,lee,müller",
          "search_contacts: comma-separated queries, used in turn");

namespace {

namespace v1 = crm::contacts::v1;

// The 20 custom fields create_contact_fields writes: the common types of a CRM's contact form.
constexpr int kBenchFields = 20;
crm::common::v1::CustomFieldType BenchFieldType(int i) {
  using crm::common::v1::CustomFieldType;
  static constexpr CustomFieldType kTypes[] = {crm::common::v1::CUSTOM_FIELD_TYPE_TEXT,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_NUMBER,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_BOOLEAN,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_DATE,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_EMAIL,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_URL,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_PERCENT,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_TEXT,
                                               crm::common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT};
  return kTypes[i % (sizeof(kTypes) / sizeof(kTypes[0]))];
}
std::string BenchFieldKey(int i) { return absl::StrCat("f", i + 1); }

// A value of field `i` as a form would send it.
crm::common::v1::CustomFieldValue BenchFieldValue(int i, int64_t n) {
  crm::common::v1::CustomFieldValue v;
  switch (BenchFieldType(i)) {
    case crm::common::v1::CUSTOM_FIELD_TYPE_NUMBER:
      v.set_number(absl::StrCat(n % 100000, ".25"));
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT:
      v.set_option(n % 2 == 0 ? "gold" : "silver");
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT:
      v.mutable_options()->add_ids("gold");
      v.mutable_options()->add_ids("silver");
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_BOOLEAN:
      v.set_boolean(n % 2 == 0);
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_DATE:
      v.set_date("2026-03-14");
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_EMAIL:
      v.set_email(absl::StrCat("billing", n, "@bench.example"));
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_URL:
      v.set_url(absl::StrCat("https://bench.example/accounts/", n));
      break;
    case crm::common::v1::CUSTOM_FIELD_TYPE_PERCENT:
      v.set_percent("12.5");
      break;
    default:
      v.set_text(absl::StrCat("Value ", n, " of field ", i + 1));
  }
  return v;
}

// Defines the 20 fields for the token's tenant (the token must be an admin's), and with
// `external_id` a unique text field "external_id" after them (define_fields).
grpc::Status DefineBenchFields(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& admin_token, bool external_id = false) {
  v1::ContactsService::Stub stub(channel);
  if (external_id) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + admin_token);
    crm::common::v1::CreateCustomFieldRequest request;
    request.set_parent("objectTypes/contact");
    request.mutable_custom_field()->set_key("external_id");
    request.mutable_custom_field()->set_label("External id");
    request.mutable_custom_field()->set_type(crm::common::v1::CUSTOM_FIELD_TYPE_TEXT);
    request.mutable_custom_field()->set_unique(true);
    crm::common::v1::CustomFieldDefinition defined;
    grpc::Status status = stub.CreateCustomField(&context, request, &defined);
    if (!status.ok()) return status;
  }
  for (int i = 0; i < kBenchFields; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + admin_token);
    crm::common::v1::CreateCustomFieldRequest request;
    request.set_parent("objectTypes/contact");
    auto* field = request.mutable_custom_field();
    field->set_key(BenchFieldKey(i));
    field->set_label(absl::StrCat("Field ", i + 1));
    field->set_type(BenchFieldType(i));
    if (BenchFieldType(i) == crm::common::v1::CUSTOM_FIELD_TYPE_NUMBER ||
        BenchFieldType(i) == crm::common::v1::CUSTOM_FIELD_TYPE_PERCENT) {
      field->set_scale(2);
    }
    if (BenchFieldType(i) == crm::common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT ||
        BenchFieldType(i) == crm::common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT) {
      field->add_options()->set_label("Gold");
      field->add_options()->set_label("Silver");
    }
    crm::common::v1::CustomFieldDefinition defined;
    grpc::Status status = stub.CreateCustomField(&context, request, &defined);
    if (!status.ok()) return status;
  }
  return grpc::Status::OK;
}

// A phone no other create of this run has: US numbers, half in national and half in
// international form, so the service normalises both as an import would.
std::string NextPhone() {
  static std::atomic<int64_t> next{0};
  static const int kAreas[] = {212, 646, 718, 917, 415, 650, 408, 312};
  const int64_t n = next++;
  const int area = kAreas[(n / 7000000) % 8];
  int exchange = 200 + static_cast<int>((n / 10000) % 700);  // 200-899
  if (exchange % 100 == 11) exchange += 1;                   // N11 codes are not exchanges
  const int line = static_cast<int>(n % 10000);
  return n % 2 == 0 ? absl::StrFormat("(%03d) %03d-%04d", area, exchange, line)
                    : absl::StrFormat("+1 %03d %03d %04d", area, exchange, line);
}

// CPU time, in clock ticks, of a process and of its children: the ones it already reaped and the
// live ones (PostgreSQL's backends are children of the postmaster).
int64_t CpuTicks(int pid) {
  auto fields = [](const std::string& path) -> std::vector<std::string> {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    const size_t close = line.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) return {};
    return absl::StrSplit(line.substr(close + 2), ' ');
  };
  auto field = [](const std::vector<std::string>& f, size_t i) {
    int64_t v = 0;
    return i < f.size() && absl::SimpleAtoi(f[i], &v) ? v : 0;
  };
  // After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const auto self = fields(absl::StrCat("/proc/", pid, "/stat"));
  int64_t ticks = field(self, 11) + field(self, 12) + field(self, 13) + field(self, 14);
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int child = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &child)) continue;
    const auto f = fields(entry.path().string() + "/stat");
    if (field(f, 1) == pid) ticks += field(f, 11) + field(f, 12);
  }
  return ticks;
}

int64_t OwnCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

struct WorkerResult {
  std::vector<double> latencies_ms;
  int64_t errors = 0;
  std::string last_error;
};

class Caller {
 public:
  Caller(std::shared_ptr<grpc::Channel> channel, std::string token, int worker)
      : health_(grpc::health::v1::Health::NewStub(channel)),
        contacts_(v1::ContactsService::NewStub(channel)),
        pipeline_(crm::pipeline::v1::PipelineService::NewStub(channel)),
        token_(std::move(token)),
        worker_(worker),
        rng_(worker) {}
  ~Caller() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  static size_t Collect(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  }

  // One HTTP call on this worker's keep-alive connection.
  grpc::Status Http(const std::string& method, const std::string& path, const std::string& body) {
    if (curl_ == nullptr) {
      curl_ = curl_easy_init();
      headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + token_).c_str());
      headers_ = curl_slist_append(headers_, "Content-Type: application/json");
      headers_ = curl_slist_append(headers_, "Expect:");
    }
    std::string reply;
    curl_easy_setopt(curl_, CURLOPT_URL,
                     absl::StrCat("http://", absl::GetFlag(FLAGS_http_target), path).c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Caller::Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply);
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode code = curl_easy_perform(curl_);
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK)
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, curl_easy_strerror(code));
    if (status != 200)
      return grpc::Status(grpc::StatusCode::UNKNOWN, absl::StrCat("HTTP ", status, " ", reply));
    return grpc::Status::OK;
  }

  grpc::Status Call(const std::string& method, const std::vector<std::string>& names) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (method != "health") context.AddMetadata("authorization", "Bearer " + token_);
    if (method == "health") {
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      return health_->Check(&context, request, &response);
    }
    if (method == "http_create_contact") {
      return Http("POST", "/v1/contacts",
                  absl::StrCat(R"({"givenName":"Bench","familyName":"W)", worker_,
                               R"(","emails":["h)", worker_, "-", counter_++, "-", start_,
                               R"(@bench.example"],"phones":[")", NextPhone(), R"("]})"));
    }
    if (method == "http_get_contact") {
      return Http("GET", "/v1/" + names[rng_() % names.size()], "");
    }
    if (method == "create_contact" || method == "create_contact_fields") {
      v1::CreateContactRequest request;
      request.mutable_contact()->set_given_name("Bench");
      request.mutable_contact()->set_family_name(absl::StrCat("W", worker_));
      request.mutable_contact()->add_emails(
          absl::StrCat("w", worker_, "-", counter_++, "-", start_, "@bench.example"));
      request.mutable_contact()->add_phones(NextPhone());
      if (method == "create_contact_fields") {
        auto& values = *request.mutable_contact()->mutable_custom_fields();
        for (int i = 0; i < kBenchFields; ++i)
          values[BenchFieldKey(i)] = BenchFieldValue(i, counter_);
      }
      v1::Contact response;
      return contacts_->CreateContact(&context, request, &response);
    }
    if (method == "move_deal") {
      if (deal_.name().empty()) {
        // Each worker moves its own deal back and forth between two open stages.
        crm::pipeline::v1::ListPipelinesResponse pipelines;
        grpc::Status status = pipeline_->ListPipelines(&context, {}, &pipelines);
        if (!status.ok()) return status;
        stages_ = {pipelines.pipelines(0).stages(1).id(), pipelines.pipelines(0).stages(2).id()};
        grpc::ClientContext create_context;
        create_context.AddMetadata("authorization", "Bearer " + token_);
        crm::pipeline::v1::CreateDealRequest create;
        create.mutable_deal()->set_display_name(absl::StrCat("Bench deal ", worker_));
        create.mutable_deal()->mutable_amount()->set_amount_minor(100000);
        return pipeline_->CreateDeal(&create_context, create, &deal_);
      }
      crm::pipeline::v1::MoveDealRequest move;
      move.set_name(deal_.name());
      move.set_etag(deal_.etag());
      move.set_stage(stages_[counter_++ % 2]);
      return pipeline_->MoveDeal(&context, move, &deal_);
    }
    if (method == "list_contacts") {
      v1::ListContactsRequest request;  // the first page of 20, as a front end's list view asks
      request.set_page_size(20);
      v1::ListContactsResponse response;
      return contacts_->ListContacts(&context, request, &response);
    }
    if (method == "filter_contacts") {
      v1::ListContactsRequest request;
      request.set_page_size(20);
      const int64_t n = 1 + static_cast<int64_t>(rng_() % absl::GetFlag(FLAGS_filter_range));
      request.set_filter(
          absl::StrReplaceAll(absl::GetFlag(FLAGS_filter), {{"{n}", absl::StrCat(n)}}));
      v1::ListContactsResponse response;
      grpc::Status status = contacts_->ListContacts(&context, request, &response);
      if (status.ok() && response.contacts_size() != 1) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            absl::StrCat("expected 1 contact for ", request.filter(), ", got ",
                                         response.contacts_size()));
      }
      return status;
    }
    if (method == "search_contacts") {
      v1::SearchContactsRequest request;
      request.set_query(names[rng_() % names.size()]);
      v1::SearchContactsResponse response;
      return contacts_->SearchContacts(&context, request, &response);
    }
    v1::GetContactRequest request;
    request.set_name(names[rng_() % names.size()]);
    v1::Contact response;
    return contacts_->GetContact(&context, request, &response);
  }

 private:
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<v1::ContactsService::Stub> contacts_;
  std::unique_ptr<crm::pipeline::v1::PipelineService::Stub> pipeline_;
  crm::pipeline::v1::Deal deal_;
  std::vector<std::string> stages_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string token_;
  int worker_;
  int64_t counter_ = 0;
  int64_t start_ = absl::ToUnixMicros(absl::Now());
  std::minstd_rand rng_;
};

double Percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[index];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  crm::server::SkipMutexDeadlockDetection();  // as the servers do: the client costs less CPU
  const std::string method = absl::GetFlag(FLAGS_method);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  std::string token;
  std::string admin_token;
  if (method != "health") {
    auto secret = crm::auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
    if (!secret.ok()) {
      std::fprintf(stderr, "loadgen: %s\n", secret.status().ToString().c_str());
      return 2;
    }
    crm::auth::Claims claims;
    claims.subject = "bench";
    claims.tenant = absl::GetFlag(FLAGS_tenant);
    if (claims.tenant.empty())
      claims.tenant = absl::StrCat("bench-", absl::ToUnixMicros(absl::Now()));
    claims.roles = {"manager"};
    claims.expires = absl::Now() + absl::Hours(2);
    token = crm::auth::SignHs256(claims, *secret);
    claims.subject = "bench-admin";  // defines the custom fields of create_contact_fields
    claims.roles = {"admin"};
    admin_token = crm::auth::SignHs256(claims, *secret);
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct args: a separate connection per channel
    channels.push_back(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                                 grpc::InsecureChannelCredentials(), args));
  }

  if (method == "create_contact_fields" || method == "define_fields") {
    grpc::Status status = DefineBenchFields(channels[0], admin_token, method == "define_fields");
    if (!status.ok()) {
      std::fprintf(stderr, "loadgen: defining fields failed: %s\n", status.error_message().c_str());
      return 1;
    }
    if (method == "define_fields") return 0;
  }
  std::vector<std::string> names;
  if (method == "search_contacts") {
    names = absl::StrSplit(absl::GetFlag(FLAGS_queries), ',');
  }
  if (method == "get_contact" || method == "http_get_contact") {
    v1::ContactsService::Stub stub(channels[0]);
    for (int i = 0; i < absl::GetFlag(FLAGS_preload); ++i) {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      v1::CreateContactRequest request;
      request.mutable_contact()->set_given_name("Preload");
      request.mutable_contact()->add_emails(
          absl::StrCat("preload-", i, "-", absl::ToUnixMicros(absl::Now()), "@bench.example"));
      v1::Contact contact;
      grpc::Status status = stub.CreateContact(&context, request, &contact);
      if (!status.ok()) {
        std::fprintf(stderr, "loadgen: preload failed: %s\n", status.error_message().c_str());
        return 1;
      }
      names.push_back(contact.name());
    }
  }

  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::vector<WorkerResult> results(concurrency);
  std::vector<std::thread> workers;
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      Caller caller(channels[w % channels.size()], token, w);
      WorkerResult& result = results[w];
      result.latencies_ms.reserve(1 << 16);
      while (!stop.load(std::memory_order_relaxed)) {
        const absl::Time start = absl::Now();
        grpc::Status status = caller.Call(method, names);
        const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (status.ok()) {
          result.latencies_ms.push_back(ms);
        } else {
          ++result.errors;
          result.last_error = status.error_message();
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_warmup_seconds)));
  std::vector<std::pair<std::string, int>> watched;
  for (absl::string_view item :
       absl::StrSplit(absl::GetFlag(FLAGS_cpu_of), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
    int pid = 0;
    if (absl::SimpleAtoi(kv.second, &pid)) watched.emplace_back(kv.first, pid);
  }
  std::vector<int64_t> ticks_before;
  for (const auto& [name, pid] : watched) ticks_before.push_back(CpuTicks(pid));
  const int64_t own_before = OwnCpuMicros();
  measuring = true;
  const absl::Time begin = absl::Now();
  absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_seconds)));
  measuring = false;
  const int64_t own_used = OwnCpuMicros() - own_before;
  std::string cpu;
  for (size_t i = 0; i < watched.size(); ++i) {
    absl::StrAppend(&cpu, " ", watched[i].first,
                    "_ticks=", CpuTicks(watched[i].second) - ticks_before[i]);
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  stop = true;
  for (auto& t : workers) t.join();

  std::vector<double> all;
  int64_t errors = 0;
  std::string last_error;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_ms.begin(), r.latencies_ms.end());
    errors += r.errors;
    if (!r.last_error.empty()) last_error = r.last_error;
  }
  std::sort(all.begin(), all.end());
  // CPU per call in microseconds: the load generator's own, and each watched process's.
  const double calls = std::max<double>(1, all.size());
  std::string cpu_per_call = absl::StrFormat(" loadgen_cpu_us=%.0f", own_used / calls);
  for (absl::string_view part : absl::StrSplit(cpu, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, '=');
    int64_t ticks = 0;
    (void)absl::SimpleAtoi(kv.second, &ticks);
    absl::StrAppendFormat(&cpu_per_call, " %s_cpu_us=%.0f", kv.first.substr(0, kv.first.size() - 6),
                          ticks * 1e6 / sysconf(_SC_CLK_TCK) / calls);
  }
  std::printf("method=%s concurrency=%d calls=%zu errors=%lld qps=%.0f p50_ms=%.3f p99_ms=%.3f%s\n",
              method.c_str(), concurrency, all.size(), static_cast<long long>(errors),
              all.size() / elapsed, Percentile(all, 0.50), Percentile(all, 0.99),
              cpu_per_call.c_str());
  if (errors > 0) std::fprintf(stderr, "loadgen: last error: %s\n", last_error.c_str());
  return 0;
}
