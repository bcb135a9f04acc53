// Security sweep over every RPC of every service, against the real binaries (OWASP API Security
// Top 10 as the checklist): broken authentication (API2) — forged, expired, `alg: none`,
// wrong-key, tenant-less and malformed tokens are UNAUTHENTICATED everywhere; broken object-level
// authorization (API1) — another tenant's ids are NOT_FOUND and nothing of theirs comes back;
// broken function-level authorization (API5) — reps cannot change others' records or admin
// settings; injection (API8) — SQL payloads in strings, filters and searches come back as data;
// and no secret reaches a log or an error message.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/auth/jwt.h"
#include "common/ids/uuid.h"
#include "common/testing/http_receiver.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/served_services.h"
#include "common/testing/wait.h"
#include "crm/common/v1/event_stream_service.pb.h"
#include "crm/contacts/v1/contacts_service.pb.h"
#include "crm/pipeline/v1/pipeline_service.pb.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"
#include "services/gateway/backend.h"
#include "tests/e2e/stack.h"

namespace crm {
namespace {

namespace pb = google::protobuf;

constexpr char kTenantA[] = "tenant-a";
constexpr char kTenantB[] = "tenant-b";

struct Method {
  std::string backend;
  const pb::MethodDescriptor* descriptor;
  std::string label() const { return absl::StrCat(backend, ":", descriptor->full_name()); }
};

std::vector<Method> AllMethods() {
  std::vector<Method> methods;
  const pb::ServiceDescriptor* events =
      crm::common::v1::SubscribeRequest::descriptor()->file()->pool()->FindServiceByName(
          "crm.common.v1.EventStream");
  for (const auto& [service_name, backend] : testing::ServedServices()) {
    const pb::ServiceDescriptor* service =
        pb::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    EXPECT_NE(service, nullptr) << service_name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i)
      methods.push_back({backend, service->method(i)});
    methods.push_back({backend, events->FindMethodByName("Subscribe")});
  }
  return methods;
}

struct Reply {
  grpc::Status status;
  std::string bytes;  // the response (every message of a stream), serialized
  std::string json;   // unary responses as JSON
  std::string Everything() const {
    return absl::StrCat(bytes, json, status.error_message(), status.error_details());
  }
};

std::string Base64Url(absl::string_view data) {
  std::string out;
  absl::WebSafeBase64Escape(data, &out);
  return out;
}

// A token with any header, signed with HMAC-SHA256 under `secret` (or unsigned when empty).
std::string HandMadeToken(const std::string& header, const std::string& payload,
                          const std::string& secret) {
  const std::string signing_input = absl::StrCat(Base64Url(header), ".", Base64Url(payload));
  if (secret.empty()) return signing_input + ".";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  return absl::StrCat(signing_input, ".",
                      Base64Url(absl::string_view(reinterpret_cast<char*>(mac), mac_size)));
}

// `text` as a JSON string literal, quotes and escapes included.
std::string JsonString(const std::string& text) { return nlohmann::json(text).dump(); }

std::string Bearer(const std::string& tenant, const std::string& user, const std::string& role) {
  return "Bearer " + testing::MintToken(tenant, user, {role});
}

class SecuritySweepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    log_dir_ = new std::string(absl::StrCat("/tmp/crm-security-logs-", ids::NewUuidV7()));
    std::filesystem::create_directories(*log_dir_);
    testing::StackOptions options;
    options.log_dir = *log_dir_;
    auto stack = testing::Stack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
    auto address = [](testing::ServiceProcess& p) {
      return absl::StrCat("127.0.0.1:", p.grpc_port());
    };
    backends_ = new gateway::Backends({{"contacts", address(stack_->contacts())},
                                       {"pipeline", address(stack_->pipeline())},
                                       {"tasks", address(stack_->tasks())},
                                       {"reporting", address(stack_->reporting())}});
    ids_ = new std::map<std::string, std::string>();
    CreateTenantAResources();
  }
  static void TearDownTestSuite() {
    delete backends_;
    delete stack_;
    std::filesystem::remove_all(*log_dir_);
    delete log_dir_;
    delete ids_;
  }

  static const pb::MethodDescriptor* Find(const std::string& full_name) {
    const pb::MethodDescriptor* method =
        pb::DescriptorPool::generated_pool()->FindMethodByName(full_name);
    EXPECT_NE(method, nullptr) << full_name;
    return method;
  }

  static std::string BackendOf(const pb::MethodDescriptor* method) {
    return testing::ServedServices().at(method->service()->full_name());
  }

  // Calls `method` with the request given as proto3 JSON. Streams are read for at most
  // `stream_time` (a watch never ends by itself).
  static Reply Call(const Method& method, const std::string& json, const std::string& authorization,
                    absl::Duration stream_time = absl::Milliseconds(500)) {
    const pb::MethodDescriptor* d = method.descriptor;
    std::unique_ptr<pb::Message> request(
        pb::MessageFactory::generated_factory()->GetPrototype(d->input_type())->New());
    const auto parsed = pb::util::JsonStringToMessage(json, request.get());
    EXPECT_TRUE(parsed.ok()) << d->full_name() << ": " << parsed.ToString() << " in " << json;
    gateway::CallOptions options;
    options.authorization = authorization;
    options.deadline = absl::Now() + absl::Seconds(10);
    const std::string path = absl::StrCat("/", d->service()->full_name(), "/", d->name());
    Reply reply;
    if (!d->client_streaming() && !d->server_streaming()) {
      absl::Notification done;
      backends_->Unary(method.backend, path, request->SerializeAsString(), options,
                       [&](grpc::Status status, std::string bytes) {
                         reply.status = status;
                         reply.bytes = std::move(bytes);
                         done.Notify();
                       });
      done.WaitForNotification();
      if (reply.status.ok()) {
        std::unique_ptr<pb::Message> response(
            pb::MessageFactory::generated_factory()->GetPrototype(d->output_type())->New());
        EXPECT_TRUE(response->ParseFromString(reply.bytes));
        (void)pb::util::MessageToJsonString(*response, &reply.json);
      }
      return reply;
    }
    // Read for `stream_time`, then cancel (a watch never ends by itself).
    absl::Mutex mu;
    absl::Notification done;
    gateway::StreamCallbacks callbacks;
    std::shared_ptr<gateway::BackendStream> stream;
    callbacks.on_message = [&](std::string message) {
      absl::MutexLock lock(&mu);
      reply.bytes += message;
      stream->Next();
    };
    callbacks.on_done = [&](grpc::Status status) {
      reply.status = status;
      done.Notify();
    };
    {
      absl::MutexLock lock(&mu);
      stream = backends_->Stream(method.backend, path, request->SerializeAsString(), options,
                                 std::move(callbacks));
      stream->Start();
    }
    if (!done.WaitForNotificationWithTimeout(stream_time)) {
      stream->Cancel();
      done.WaitForNotification();
    }
    return reply;
  }
  static Reply Call(const std::string& full_name, const std::string& json,
                    const std::string& authorization) {
    const pb::MethodDescriptor* method = Find(full_name);
    return Call(Method{BackendOf(method), method}, json, authorization);
  }

  // Calls as tenant A's admin and keeps the created resource's name under `key`.
  static void CreateA(const std::string& key, const std::string& method, const std::string& json,
                      const std::string& name_field = "name") {
    const Reply reply = Call(method, Substitute(json), Bearer(kTenantA, "a-admin", "admin"));
    ASSERT_TRUE(reply.status.ok()) << method << ": " << reply.status.error_message();
    const std::string marker = absl::StrCat("\"", name_field, "\":\"");
    const size_t at = reply.json.find(marker);
    ASSERT_NE(at, std::string::npos) << reply.json;
    const size_t begin = at + marker.size();
    (*ids_)[key] = reply.json.substr(begin, reply.json.find('"', begin) - begin);
  }

  // Replaces ${key} with tenant A's resource names.
  static std::string Substitute(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> replacements;
    for (const auto& [key, name] : *ids_) replacements.emplace_back("${" + key + "}", name);
    return absl::StrReplaceAll(text, replacements);
  }

  // The id part of each of tenant A's resource names: what must never reach tenant B.
  static std::vector<std::string> TenantAIds() {
    std::vector<std::string> out;
    for (const auto& [key, name] : *ids_) out.push_back(name.substr(name.rfind('/') + 1));
    return out;
  }

  static void CreateTenantAResources() {
    CreateA("company", "crm.contacts.v1.ContactsService.CreateCompany",
            R"({"company":{"displayName":"Acme Secret Corp","domain":"acme-secret.example"}})");
    CreateA(
        "contact", "crm.contacts.v1.ContactsService.CreateContact",
        R"({"contact":{"givenName":"Alice","familyName":"Secret","emails":["alice@acme-secret.example"],
                "company":"${company}","tags":["vip"]}})");
    CreateA(
        "contact2", "crm.contacts.v1.ContactsService.CreateContact",
        R"({"contact":{"givenName":"Alicia","familyName":"Secret","emails":["alicia@acme-secret.example"]}})");
    CreateA(
        "activity", "crm.contacts.v1.ContactsService.LogActivity",
        R"({"activity":{"kind":"ACTIVITY_KIND_CALL","contact":"${contact}","subject":"secret call"}})");
    CreateA("segment", "crm.contacts.v1.ContactsService.CreateSegment",
            R"({"segment":{"displayName":"Secret VIPs","filter":"tags:vip"}})");
    CreateA("custom_field", "crm.contacts.v1.ContactsService.CreateCustomField",
            R"({"parent":"objectTypes/contact","customField":{"key":"secret_tier",
                "label":"Secret tier","type":"CUSTOM_FIELD_TYPE_TEXT"}})");
    CreateA("pipeline", "crm.pipeline.v1.PipelineService.CreatePipeline",
            R"({"pipeline":{"displayName":"Secret pipeline","stages":[
                {"id":"open","displayName":"Open","probabilityPercent":10,"kind":"STAGE_KIND_OPEN","forecastCategory":"FORECAST_CATEGORY_PIPELINE"},
                {"id":"won","displayName":"Won","probabilityPercent":100,"kind":"STAGE_KIND_WON","forecastCategory":"FORECAST_CATEGORY_CLOSED"},
                {"id":"lost","displayName":"Lost","probabilityPercent":0,"kind":"STAGE_KIND_LOST","forecastCategory":"FORECAST_CATEGORY_OMITTED"}]}})");
    CreateA("product", "crm.pipeline.v1.PipelineService.CreateProduct",
            R"({"product":{"sku":"SECRET-1","displayName":"Secret plan",
                "billing":"BILLING_TYPE_ONE_TIME","listPrice":{"currencyCode":"EUR","amountMinor":"10000"}}})");
    CreateA("deal_field", "crm.pipeline.v1.PipelineService.CreateCustomField",
            R"({"parent":"objectTypes/deal","customField":{"key":"secret_code",
                "label":"Secret code","type":"CUSTOM_FIELD_TYPE_TEXT"}})");
    CreateA("task_field", "crm.tasks.v1.TasksService.CreateCustomField",
            R"({"parent":"objectTypes/task","customField":{"key":"secret_ticket",
                "label":"Secret ticket","type":"CUSTOM_FIELD_TYPE_TEXT"}})");
    CreateA("deal", "crm.pipeline.v1.PipelineService.CreateDeal",
            R"({"deal":{"displayName":"Secret deal","contact":"${contact}",
                "amount":{"currencyCode":"EUR","amountMinor":"500000"}}})");
    CreateA("task", "crm.tasks.v1.TasksService.CreateTask",
            R"({"task":{"title":"Secret task","assignee":"a-admin","contact":"${contact}",
                "reminderTime":")" +
                absl::FormatTime(absl::RFC3339_sec, absl::Now() + absl::Seconds(1),
                                 absl::UTCTimeZone()) +
                R"("}})");
    CreateA("webhook", "crm.tasks.v1.TasksService.CreateWebhook",
            R"({"webhook":{"url":"http://127.0.0.1:9/secret-hook"}})");
    CreateA("schedule", "crm.reporting.v1.ReportingService.CreateReportSchedule",
            R"({"schedule":{"displayName":"Secret weekly","spec":{"kind":"REPORT_KIND_WON_LOST",
                "period":"PERIOD_KIND_WEEK"}}})");
    // The reminder fires within a couple of seconds and leaves a notification in A's inbox.
    for (int i = 0; i < 100 && !ids_->contains("notification"); ++i) {
      absl::SleepFor(absl::Milliseconds(100));
      const Reply inbox = Call("crm.tasks.v1.TasksService.ListNotifications", "{}",
                               Bearer(kTenantA, "a-admin", "admin"));
      if (absl::StrContains(inbox.json, "notifications/")) {
        const size_t begin = inbox.json.find("notifications/");
        (*ids_)["notification"] = inbox.json.substr(begin, inbox.json.find('"', begin) - begin);
      }
    }
    ASSERT_TRUE(ids_->contains("notification")) << "the reminder never fired";
  }

  static std::string ReadLogs() {
    std::string all;
    for (const auto& entry : std::filesystem::directory_iterator(*log_dir_)) {
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      all += text.str();
    }
    return all;
  }

  static testing::Stack* stack_;
  static gateway::Backends* backends_;
  static std::map<std::string, std::string>* ids_;
  static std::string* log_dir_;
};

testing::Stack* SecuritySweepTest::stack_ = nullptr;
gateway::Backends* SecuritySweepTest::backends_ = nullptr;
std::map<std::string, std::string>* SecuritySweepTest::ids_ = nullptr;
std::string* SecuritySweepTest::log_dir_ = nullptr;

std::vector<std::pair<std::string, std::string>> MakeBadTokens();

// Tokens that must never get in, each with what is wrong with it; made once, so the log check
// looks for exactly the tokens that were sent.
const std::vector<std::pair<std::string, std::string>>& BadAuthorizations() {
  static const auto* tokens = new std::vector<std::pair<std::string, std::string>>(MakeBadTokens());
  return *tokens;
}

std::vector<std::pair<std::string, std::string>> MakeBadTokens() {
  const std::string valid = testing::MintToken(kTenantA, "a-admin", {"admin"});
  const absl::Time now = absl::Now();
  auto payload = [&](const std::string& tenant, absl::Time exp) {
    return absl::StrCat(R"({"sub":"a-admin","tenant":")", tenant, R"(","roles":["admin"],"exp":)",
                        absl::ToUnixSeconds(exp), "}");
  };
  auth::Claims expired;
  expired.subject = "a-admin";
  expired.tenant = kTenantA;
  expired.roles = {"admin"};
  expired.expires = now - absl::Minutes(1);
  std::string forged = valid;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  return {
      {"no authorization", ""},
      {"not a bearer token", "Basic YWRtaW46YWRtaW4="},
      {"garbage token", "Bearer not-a-token"},
      {"empty bearer", "Bearer "},
      {"forged signature", "Bearer " + forged},
      {"expired", "Bearer " + auth::SignHs256(expired, testing::kTestJwtSecret)},
      {"alg none", "Bearer " + HandMadeToken(R"({"alg":"none","typ":"JWT"})",
                                             payload(kTenantA, now + absl::Hours(1)), "")},
      {"alg RS256 with an HMAC signature",
       "Bearer " + HandMadeToken(R"({"alg":"RS256","typ":"JWT"})",
                                 payload(kTenantA, now + absl::Hours(1)), testing::kTestJwtSecret)},
      {"wrong key", "Bearer " + testing::MintToken(kTenantA, "a-admin", {"admin"},
                                                   "another-secret-0123456789abcdef-012345")},
      {"no tenant",
       "Bearer " + HandMadeToken(R"({"alg":"HS256","typ":"JWT"})",
                                 R"({"sub":"a-admin","roles":["admin"],"exp":)" +
                                     absl::StrCat(absl::ToUnixSeconds(now) + 3600) + "}",
                                 testing::kTestJwtSecret)},
      {"empty tenant",
       "Bearer " + HandMadeToken(R"({"alg":"HS256","typ":"JWT"})",
                                 payload("", now + absl::Hours(1)), testing::kTestJwtSecret)},
  };
}

TEST_F(SecuritySweepTest, EveryRpcRefusesEveryBadToken) {
  int calls = 0;
  for (const Method& method : AllMethods()) {
    for (const auto& [what, authorization] : BadAuthorizations()) {
      const Reply reply = Call(method, "{}", authorization);
      ++calls;
      EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method.label() << " with " << what << ": " << reply.status.error_message();
      EXPECT_TRUE(reply.bytes.empty()) << method.label() << " answered " << what;
      // The error never echoes the token.
      const std::string token = authorization.substr(authorization.find(' ') + 1);
      if (token.size() > 8) {
        EXPECT_FALSE(absl::StrContains(reply.status.error_message(), token)) << method.label();
      }
    }
  }
  std::cout << "bad-token calls: " << calls << " over " << AllMethods().size() << " RPCs\n";
}

// Every RPC whose request names a resource, with tenant A's names, called by tenant B's admin.
// ${key} stands for tenant A's resource of that kind.
const std::map<std::string, std::string>& ForeignIdRequests() {
  static const auto* requests = new std::map<std::string, std::string>{
      {"crm.contacts.v1.ContactsService.GetContact", R"({"name":"${contact}"})"},
      {"crm.contacts.v1.ContactsService.UpdateContact",
       R"({"contact":{"name":"${contact}","givenName":"Mallory"},"updateMask":"givenName"})"},
      {"crm.contacts.v1.ContactsService.DeleteContact", R"({"name":"${contact}"})"},
      {"crm.contacts.v1.ContactsService.GetCompany", R"({"name":"${company}"})"},
      {"crm.contacts.v1.ContactsService.UpdateCompany",
       R"({"company":{"name":"${company}","displayName":"Mallory Inc"},"updateMask":"displayName"})"},
      {"crm.contacts.v1.ContactsService.DeleteCompany", R"({"name":"${company}"})"},
      {"crm.contacts.v1.ContactsService.ListActivities", R"({"parent":"${contact}"})"},
      {"crm.contacts.v1.ContactsService.FindDuplicates", R"({"name":"${contact}"})"},
      {"crm.contacts.v1.ContactsService.MergeContacts",
       R"({"winner":"${contact}","loser":"${contact2}"})"},
      {"crm.contacts.v1.ContactsService.LogActivity",
       R"({"activity":{"kind":"ACTIVITY_KIND_CALL","contact":"${contact}","subject":"x"}})"},
      {"crm.contacts.v1.ContactsService.GetSegment", R"({"name":"${segment}"})"},
      {"crm.contacts.v1.ContactsService.GetCustomField", R"({"name":"${custom_field}"})"},
      {"crm.contacts.v1.ContactsService.UpdateCustomField",
       R"({"customField":{"name":"${custom_field}","label":"Mallory"},"updateMask":"label"})"},
      {"crm.contacts.v1.ContactsService.DeleteCustomField", R"({"name":"${custom_field}"})"},
      {"crm.contacts.v1.ContactsService.UpdateSegment",
       R"({"segment":{"name":"${segment}","displayName":"Mallory"},"updateMask":"displayName"})"},
      {"crm.contacts.v1.ContactsService.DeleteSegment", R"({"name":"${segment}"})"},
      {"crm.contacts.v1.ContactsService.CountSegment", R"({"name":"${segment}"})"},
      {"crm.contacts.v1.ContactsService.ListSegmentMembers", R"({"name":"${segment}"})"},
      {"crm.contacts.v1.ContactsService.ExportSegment", R"({"name":"${segment}"})"},
      {"crm.contacts.v1.ContactsService.PreviewSegmentMessages",
       R"({"name":"${segment}","template":"Hi {{given_name}}"})"},
      {"crm.pipeline.v1.PipelineService.GetCustomField", R"({"name":"${deal_field}"})"},
      {"crm.tasks.v1.TasksService.GetCustomField", R"({"name":"${task_field}"})"},
      {"crm.tasks.v1.TasksService.UpdateCustomField",
       R"({"customField":{"name":"${task_field}","label":"Mallory"},"updateMask":"label"})"},
      {"crm.tasks.v1.TasksService.DeleteCustomField", R"({"name":"${task_field}"})"},
      {"crm.pipeline.v1.PipelineService.UpdateCustomField",
       R"({"customField":{"name":"${deal_field}","label":"Mallory"},"updateMask":"label"})"},
      {"crm.pipeline.v1.PipelineService.DeleteCustomField", R"({"name":"${deal_field}"})"},
      {"crm.pipeline.v1.PipelineService.GetPipeline", R"({"name":"${pipeline}"})"},
      {"crm.pipeline.v1.PipelineService.UpdatePipeline",
       R"({"pipeline":{"name":"${pipeline}","displayName":"Mallory"}})"},
      {"crm.pipeline.v1.PipelineService.CreateDeal",
       R"({"deal":{"displayName":"x","contact":"${contact}","pipeline":"${pipeline}"}})"},
      {"crm.pipeline.v1.PipelineService.GetDeal", R"({"name":"${deal}"})"},
      {"crm.pipeline.v1.PipelineService.UpdateDeal",
       R"({"deal":{"name":"${deal}","displayName":"Mallory"},"updateMask":"displayName"})"},
      {"crm.pipeline.v1.PipelineService.DeleteDeal", R"({"name":"${deal}"})"},
      {"crm.pipeline.v1.PipelineService.MoveDeal",
       R"({"name":"${deal}","stage":"00000000-0000-7000-8000-000000000000","etag":"1"})"},
      {"crm.pipeline.v1.PipelineService.SetLineItems",
       R"({"name":"${deal}","lineItems":[{"product":"${product}","quantity":1}]})"},
      {"crm.pipeline.v1.PipelineService.UpdateProduct",
       R"({"product":{"name":"${product}","displayName":"Mallory"},"updateMask":"displayName"})"},
      {"crm.pipeline.v1.PipelineService.ListStageHistory", R"({"name":"${deal}"})"},
      {"crm.pipeline.v1.PipelineService.SuggestCrossSell", R"({"customer":"${contact}"})"},
      {"crm.reporting.v1.ReportingService.DeleteReportSchedule", R"({"name":"${schedule}"})"},
      {"crm.reporting.v1.ReportingService.ListReportRuns", R"({"parent":"${schedule}"})"},
      {"crm.tasks.v1.TasksService.GetTask", R"({"name":"${task}"})"},
      {"crm.tasks.v1.TasksService.UpdateTask",
       R"({"task":{"name":"${task}","title":"Mallory"},"updateMask":"title"})"},
      {"crm.tasks.v1.TasksService.DeleteTask", R"({"name":"${task}"})"},
      {"crm.tasks.v1.TasksService.MarkNotificationRead", R"({"name":"${notification}"})"},
      {"crm.tasks.v1.TasksService.DeleteWebhook", R"({"name":"${webhook}"})"},
      {"crm.tasks.v1.TasksService.ListWebhookDeliveries", R"({"parent":"${webhook}"})"},
  };
  return *requests;
}

// RPCs whose requests name no existing resource (creates, lists, searches, reports, settings,
// streams of one's own tenant): tenant B calls them as it likes and must see nothing of A's.
const std::map<std::string, std::string>& OwnTenantRequests() {
  static const auto* requests = new std::map<std::string, std::string>{
      {"crm.common.v1.EventStream.Subscribe", "{}"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":"Bob","emails":["alice@acme-secret.example"]}})"},
      {"crm.contacts.v1.ContactsService.ListContacts", "{}"},
      {"crm.contacts.v1.ContactsService.CreateCompany",
       R"({"company":{"displayName":"B Corp","domain":"acme-secret.example"}})"},
      {"crm.contacts.v1.ContactsService.ListCompanies", "{}"},
      {"crm.contacts.v1.ContactsService.GetTenantSettings", "{}"},
      {"crm.contacts.v1.ContactsService.UpdateTenantSettings",
       R"({"settings":{"timeZone":"Europe/Berlin"},"updateMask":"timeZone"})"},
      {"crm.contacts.v1.ContactsService.SearchContacts", R"({"query":"Secret"})"},
      {"crm.contacts.v1.ContactsService.ImportContacts",
       R"({"chunk":"ZW1haWwKYWxpY2VAYWNtZS1zZWNyZXQuZXhhbXBsZQo="})"},
      {"crm.contacts.v1.ContactsService.ImportContactsFile",
       R"({"csv":"email\nalice@acme-secret.example\n"})"},
      {"crm.contacts.v1.ContactsService.CreateSegment",
       R"({"segment":{"displayName":"B","filter":"tags:vip"}})"},
      {"crm.contacts.v1.ContactsService.ListSegments", "{}"},
      {"crm.contacts.v1.ContactsService.CreateCustomField",
       R"({"parent":"objectTypes/contact","customField":{"key":"b_tier","label":"B tier",
           "type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.contacts.v1.ContactsService.ListCustomFields", R"({"parent":"objectTypes/contact"})"},
      {"crm.pipeline.v1.PipelineService.CreateCustomField",
       R"({"parent":"objectTypes/deal","customField":{"key":"b_code","label":"B code",
           "type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.pipeline.v1.PipelineService.ListCustomFields", R"({"parent":"objectTypes/deal"})"},
      {"crm.tasks.v1.TasksService.CreateCustomField",
       R"({"parent":"objectTypes/task","customField":{"key":"b_ticket","label":"B ticket",
           "type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.tasks.v1.TasksService.ListCustomFields", R"({"parent":"objectTypes/task"})"},
      {"crm.pipeline.v1.PipelineService.ListPipelines", "{}"},
      {"crm.pipeline.v1.PipelineService.CreatePipeline",
       R"({"pipeline":{"displayName":"B","stages":[
           {"id":"open","displayName":"Open","probabilityPercent":10,"kind":"STAGE_KIND_OPEN","forecastCategory":"FORECAST_CATEGORY_PIPELINE"},
           {"id":"won","displayName":"Won","probabilityPercent":100,"kind":"STAGE_KIND_WON","forecastCategory":"FORECAST_CATEGORY_CLOSED"}]}})"},
      {"crm.pipeline.v1.PipelineService.ListDeals", "{}"},
      {"crm.pipeline.v1.PipelineService.CreateProduct",
       R"({"product":{"sku":"SECRET-1","displayName":"B plan","billing":"BILLING_TYPE_ONE_TIME","listPrice":{"currencyCode":"EUR","amountMinor":"100"}}})"},
      {"crm.pipeline.v1.PipelineService.ListProducts", "{}"},
      {"crm.pipeline.v1.PipelineService.ListPurchases", "{}"},
      {"crm.reporting.v1.ReportingService.RunReport",
       R"({"spec":{"kind":"REPORT_KIND_WON_LOST","period":"PERIOD_KIND_YEAR"}})"},
      {"crm.reporting.v1.ReportingService.ExportReport",
       R"({"spec":{"kind":"REPORT_KIND_ACTIVITIES_BY_REP","period":"PERIOD_KIND_YEAR"}})"},
      {"crm.reporting.v1.ReportingService.CreateReportSchedule",
       R"({"schedule":{"displayName":"B","spec":{"kind":"REPORT_KIND_WON_LOST","period":"PERIOD_KIND_WEEK"}}})"},
      {"crm.reporting.v1.ReportingService.ListReportSchedules", "{}"},
      {"crm.tasks.v1.TasksService.CreateTask", R"({"task":{"title":"B task"}})"},
      {"crm.tasks.v1.TasksService.ListTasks", "{}"},
      {"crm.tasks.v1.TasksService.ListNotifications", "{}"},
      {"crm.tasks.v1.TasksService.WatchNotifications", "{}"},
      {"crm.tasks.v1.TasksService.CreateWebhook",
       R"({"webhook":{"url":"http://127.0.0.1:9/b-hook"}})"},
      {"crm.tasks.v1.TasksService.ListWebhooks", "{}"},
  };
  return *requests;
}

TEST_F(SecuritySweepTest, AnotherTenantsIdsAreNotFoundOnEveryRpc) {
  // Every RPC is classified, so a new one fails here until it is.
  for (const Method& method : AllMethods()) {
    const std::string name = method.descriptor->full_name();
    EXPECT_TRUE(ForeignIdRequests().contains(name) || OwnTenantRequests().contains(name))
        << name << " is not in the security sweep";
  }
  const std::vector<std::string> a_ids = TenantAIds();
  const std::string b_admin = Bearer(kTenantB, "b-admin", "admin");
  std::map<std::string, std::string> a_before;
  for (const auto& [key, name] : *ids_) a_before[key] = name;

  for (const auto& [name, json] : ForeignIdRequests()) {
    const std::string request = Substitute(json);
    const Reply reply = Call(name, request, b_admin);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::NOT_FOUND)
        << name << ": " << reply.status.error_message();
    EXPECT_TRUE(reply.bytes.empty()) << name << " answered";
    // The error may name what the caller sent, nothing more.
    for (const std::string& id : a_ids) {
      if (absl::StrContains(request, id)) continue;
      EXPECT_FALSE(absl::StrContains(reply.Everything(), id)) << name << " leaked " << id;
    }
    EXPECT_FALSE(absl::StrContains(reply.Everything(), "Secret")) << name << " leaked A's text";
  }
  for (const Method& method : AllMethods()) {
    const auto it = OwnTenantRequests().find(method.descriptor->full_name());
    if (it == OwnTenantRequests().end()) continue;
    const Reply reply = Call(method, it->second, b_admin);
    EXPECT_NE(reply.status.error_code(), grpc::StatusCode::INTERNAL)
        << method.label() << ": " << reply.status.error_message();
    for (const std::string& id : a_ids) {
      EXPECT_FALSE(absl::StrContains(reply.Everything(), id)) << method.label() << " leaked " << id;
    }
    EXPECT_FALSE(absl::StrContains(reply.Everything(), "Secret"))
        << method.label() << " leaked tenant A's text";
  }

  // Nothing of tenant A's changed: every resource still reads as before, by its owner.
  const std::string a_admin = Bearer(kTenantA, "a-admin", "admin");
  for (const auto& [method, key] : std::vector<std::pair<std::string, std::string>>{
           {"crm.contacts.v1.ContactsService.GetContact", "contact"},
           {"crm.contacts.v1.ContactsService.GetContact", "contact2"},
           {"crm.contacts.v1.ContactsService.GetCompany", "company"},
           {"crm.contacts.v1.ContactsService.GetSegment", "segment"},
           {"crm.contacts.v1.ContactsService.GetCustomField", "custom_field"},
           {"crm.pipeline.v1.PipelineService.GetCustomField", "deal_field"},
           {"crm.tasks.v1.TasksService.GetCustomField", "task_field"},
           {"crm.pipeline.v1.PipelineService.GetPipeline", "pipeline"},
           {"crm.pipeline.v1.PipelineService.GetDeal", "deal"},
           {"crm.tasks.v1.TasksService.GetTask", "task"}}) {
    const Reply reply = Call(method, Substitute(R"({"name":"${)" + key + R"(}"})"), a_admin);
    ASSERT_TRUE(reply.status.ok()) << method << ": " << reply.status.error_message();
    EXPECT_FALSE(absl::StrContains(reply.json, "Mallory")) << reply.json;
  }
  const Reply deal =
      Call("crm.pipeline.v1.PipelineService.GetDeal", Substitute(R"({"name":"${deal}"})"), a_admin);
  EXPECT_FALSE(absl::StrContains(deal.json, "\"stage\":\"won\"")) << deal.json;
  const Reply hooks = Call("crm.tasks.v1.TasksService.ListWebhooks", "{}", a_admin);
  EXPECT_TRUE(absl::StrContains(hooks.json, Substitute("${webhook}"))) << hooks.json;
  const Reply schedules =
      Call("crm.reporting.v1.ReportingService.ListReportSchedules", "{}", a_admin);
  EXPECT_TRUE(absl::StrContains(schedules.json, Substitute("${schedule}"))) << schedules.json;
  const Reply inbox = Call("crm.tasks.v1.TasksService.ListNotifications", "{}", a_admin);
  EXPECT_FALSE(absl::StrContains(inbox.json, "readTime")) << inbox.json;
}

TEST_F(SecuritySweepTest, RepsCannotChangeOthersRecordsOrAdminSettings) {
  const std::string owner = Bearer(kTenantA, "rep-1", "rep");
  const std::string other = Bearer(kTenantA, "rep-2", "rep");
  auto create = [&](const std::string& method, const std::string& json) {
    const Reply reply = Call(method, json, owner);
    EXPECT_TRUE(reply.status.ok()) << method << ": " << reply.status.error_message();
    const size_t begin = reply.json.find("\"name\":\"") + 8;
    return reply.json.substr(begin, reply.json.find('"', begin) - begin);
  };
  const std::string contact = create("crm.contacts.v1.ContactsService.CreateContact",
                                     R"({"contact":{"givenName":"Owned","familyName":"ByRep1"}})");
  const std::string company = create("crm.contacts.v1.ContactsService.CreateCompany",
                                     R"({"company":{"displayName":"Rep1 Co"}})");
  const std::string deal = create("crm.pipeline.v1.PipelineService.CreateDeal",
                                  R"({"deal":{"displayName":"Rep1 deal"}})");
  const std::string task =
      create("crm.tasks.v1.TasksService.CreateTask", R"({"task":{"title":"Rep1 task"}})");

  const std::vector<std::pair<std::string, std::string>> attempts = {
      {"crm.contacts.v1.ContactsService.UpdateContact",
       R"({"contact":{"name":")" + contact + R"(","givenName":"X"},"updateMask":"givenName"})"},
      {"crm.contacts.v1.ContactsService.DeleteContact", R"({"name":")" + contact + R"("})"},
      {"crm.contacts.v1.ContactsService.UpdateCompany",
       R"({"company":{"name":")" + company + R"(","displayName":"X"},"updateMask":"displayName"})"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":"For","familyName":"Someone","owner":"rep-1"}})"},
      {"crm.pipeline.v1.PipelineService.UpdateDeal",
       R"({"deal":{"name":")" + deal + R"(","displayName":"X"},"updateMask":"displayName"})"},
      {"crm.pipeline.v1.PipelineService.MoveDeal",
       R"({"name":")" + deal + R"(","stage":"00000000-0000-7000-8000-000000000000","etag":"1"})"},
      {"crm.pipeline.v1.PipelineService.DeleteDeal", R"({"name":")" + deal + R"("})"},
      {"crm.tasks.v1.TasksService.UpdateTask",
       R"({"task":{"name":")" + task + R"(","title":"X"},"updateMask":"title"})"},
      {"crm.tasks.v1.TasksService.DeleteTask", R"({"name":")" + task + R"("})"},
      // Admin and manager settings.
      {"crm.contacts.v1.ContactsService.UpdateTenantSettings",
       R"({"settings":{"timeZone":"Europe/Berlin"},"updateMask":"timeZone"})"},
      {"crm.pipeline.v1.PipelineService.CreatePipeline",
       R"({"pipeline":{"displayName":"Rogue","stages":[{"id":"a","displayName":"A","kind":"STAGE_KIND_OPEN","forecastCategory":"FORECAST_CATEGORY_PIPELINE"},
           {"id":"w","displayName":"W","probabilityPercent":100,"kind":"STAGE_KIND_WON","forecastCategory":"FORECAST_CATEGORY_CLOSED"}]}})"},
      {"crm.pipeline.v1.PipelineService.CreateProduct",
       R"({"product":{"sku":"ROGUE","displayName":"Rogue","billing":"BILLING_TYPE_ONE_TIME","listPrice":{"currencyCode":"EUR","amountMinor":"100"}}})"},
      {"crm.tasks.v1.TasksService.CreateWebhook",
       R"({"webhook":{"url":"http://127.0.0.1:9/rogue"}})"},
      {"crm.tasks.v1.TasksService.ListWebhooks", "{}"},
      {"crm.contacts.v1.ContactsService.CreateCustomField",
       R"({"parent":"objectTypes/contact","customField":{"key":"rogue","label":"Rogue","type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.pipeline.v1.PipelineService.CreateCustomField",
       R"({"parent":"objectTypes/deal","customField":{"key":"rogue","label":"Rogue","type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.tasks.v1.TasksService.CreateCustomField",
       R"({"parent":"objectTypes/task","customField":{"key":"rogue","label":"Rogue","type":"CUSTOM_FIELD_TYPE_TEXT"}})"},
      {"crm.reporting.v1.ReportingService.CreateReportSchedule",
       R"({"schedule":{"displayName":"Rogue","spec":{"kind":"REPORT_KIND_WON_LOST","period":"PERIOD_KIND_WEEK"}}})"},
  };
  for (const auto& [method, json] : attempts) {
    const Reply reply = Call(method, json, other);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << reply.status.error_message();
  }
  // The owner's records are as they were.
  const Reply still =
      Call("crm.contacts.v1.ContactsService.GetContact", R"({"name":")" + contact + R"("})", owner);
  ASSERT_TRUE(still.status.ok());
  EXPECT_TRUE(absl::StrContains(still.json, "\"givenName\":\"Owned\"")) << still.json;
}

TEST_F(SecuritySweepTest, SqlInjectionPayloadsComeBackAsData) {
  const std::string rep = Bearer(kTenantA, "rep-sql", "rep");
  const std::vector<std::string> payloads = {
      "'; DROP TABLE contacts.contacts; --",
      "\" OR \"1\"=\"1",
      "' OR '1'='1' --",
      "Robert'); DELETE FROM contacts.contacts WHERE ('1'='1",
      "$1 $2 :: text",
      "%' AND pg_sleep(5) IS NULL --",
      "\\'; SELECT set_config('app.tenant', 'tenant-b', false); --",
      "1; UPDATE contacts.contacts SET tenant = 'x'",
  };
  for (size_t i = 0; i < payloads.size(); ++i) {
    const std::string& payload = payloads[i];
    const std::string quoted = JsonString(payload);
    const std::string tag = absl::StrCat("inj", i);
    const Reply created =
        Call("crm.contacts.v1.ContactsService.CreateContact",
             absl::StrCat(R"({"contact":{"givenName":)", quoted, R"(,"familyName":)", quoted,
                          R"(,"jobTitle":)", quoted, R"(,"tags":[")", tag,
                          R"("],"attributes":{"note":)", quoted, "}}}"),
             rep);
    ASSERT_TRUE(created.status.ok()) << payload << ": " << created.status.error_message();
    contacts::v1::Contact contact;
    ASSERT_TRUE(contact.ParseFromString(created.bytes));
    EXPECT_EQ(contact.given_name(), payload);
    EXPECT_EQ(contact.job_title(), payload);
    EXPECT_EQ(contact.attributes().at("note"), payload);

    // The payload as a filter value finds exactly that contact.
    std::string filter_value = absl::StrReplaceAll(payload, {{"\\", "\\\\"}, {"\"", "\\\""}});
    const std::string filter = absl::StrCat("job_title = \"", filter_value, "\" AND tags:", tag);
    const std::string filter_json = JsonString(filter);
    const Reply listed = Call("crm.contacts.v1.ContactsService.ListContacts",
                              absl::StrCat(R"({"filter":)", filter_json, "}"), rep);
    ASSERT_TRUE(listed.status.ok()) << filter << ": " << listed.status.error_message();
    contacts::v1::ListContactsResponse list;
    ASSERT_TRUE(list.ParseFromString(listed.bytes));
    ASSERT_EQ(list.contacts_size(), 1) << filter;
    EXPECT_EQ(list.contacts(0).name(), contact.name());

    // As a search query and as a raw (unparseable) filter: data or INVALID_ARGUMENT, no more.
    const Reply searched = Call("crm.contacts.v1.ContactsService.SearchContacts",
                                absl::StrCat(R"({"query":)", quoted, "}"), rep);
    EXPECT_TRUE(searched.status.ok()) << payload << ": " << searched.status.error_message();
    const Reply raw = Call("crm.contacts.v1.ContactsService.ListContacts",
                           absl::StrCat(R"({"filter":)", quoted, "}"), rep);
    EXPECT_TRUE(raw.status.ok() || raw.status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
        << payload << ": " << raw.status.error_message();
    const Reply task = Call("crm.tasks.v1.TasksService.CreateTask",
                            absl::StrCat(R"({"task":{"title":)", quoted, "}}"), rep);
    ASSERT_TRUE(task.status.ok()) << payload << ": " << task.status.error_message();
    EXPECT_TRUE(absl::StrContains(task.bytes, payload));
    const Reply deal = Call("crm.pipeline.v1.PipelineService.CreateDeal",
                            absl::StrCat(R"({"deal":{"displayName":)", quoted, "}}"), rep);
    ASSERT_TRUE(deal.status.ok()) << payload << ": " << deal.status.error_message();
    EXPECT_TRUE(absl::StrContains(deal.bytes, payload));
  }
  // The tables are all there and tenant B still sees none of it.
  const Reply mine = Call("crm.contacts.v1.ContactsService.ListContacts",
                          R"({"filter":"tags:inj0","pageSize":10})", rep);
  ASSERT_TRUE(mine.status.ok()) << mine.status.error_message();
  const Reply theirs = Call("crm.contacts.v1.ContactsService.ListContacts", R"({"pageSize":1000})",
                            Bearer(kTenantB, "b-admin", "admin"));
  ASSERT_TRUE(theirs.status.ok());
  EXPECT_FALSE(absl::StrContains(theirs.bytes, "DROP TABLE"));
}

TEST_F(SecuritySweepTest, OpenStreamsPerUserAreBounded) {
  auto stub = tasks::v1::TasksService::NewStub(testing::LocalChannel(stack_->tasks().grpc_port()));
  struct Watch {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientReader<tasks::v1::Notification>> reader;
  };
  // Opens a watch that lasts at most `lasting` and waits for the server's headers: sent once the
  // watch holds its slot, or with the error that refused it.
  auto open = [&](const std::string& user, absl::Duration lasting) {
    Watch watch;
    watch.context = testing::AuthedContext(testing::MintToken(kTenantA, user, {"rep"}));
    watch.context->set_deadline(absl::ToChronoTime(absl::Now() + lasting));
    watch.reader = stub->WatchNotifications(watch.context.get(), {});
    watch.reader->WaitForInitialMetadata();
    return watch;
  };
  // Reads to the end: DEADLINE_EXCEEDED for a watch that stayed open its whole life, the error
  // for one that was refused.
  auto outcome = [](Watch& watch) {
    tasks::v1::Notification notification;
    while (watch.reader->Read(&notification)) {
    }
    return watch.reader->Finish().error_code();
  };
  std::vector<Watch> held;
  for (int i = 0; i < 8; ++i) held.push_back(open("greedy", absl::Seconds(4)));
  Watch ninth = open("greedy", absl::Seconds(2));
  EXPECT_EQ(outcome(ninth), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Another user of the same tenant is not affected.
  Watch other = open("patient", absl::Milliseconds(500));
  EXPECT_EQ(outcome(other), grpc::StatusCode::DEADLINE_EXCEEDED);
  for (Watch& watch : held) EXPECT_EQ(outcome(watch), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The slots come back once the server sees the ends (at its next wake-up, within 1 s).
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        Watch again = open("greedy", absl::Milliseconds(500));
        return outcome(again) == grpc::StatusCode::DEADLINE_EXCEEDED;
      },
      absl::Seconds(10)));
}

// Everything a client controls has a bound, and crossing it is a clear error naming the field.
TEST_F(SecuritySweepTest, EveryClientControlledSizeIsBounded) {
  const std::string rep = Bearer(kTenantA, "limits", "rep");
  auto repeated = [](const std::string& item, int n, const std::string& separator) {
    std::string out;
    for (int i = 0; i < n; ++i) absl::StrAppend(&out, i ? separator : "", item, i);
    return out;
  };
  std::string attributes;
  for (int i = 0; i < 101; ++i) absl::StrAppend(&attributes, i ? "," : "", "\"k", i, "\":\"v\"");
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"crm.contacts.v1.ContactsService.ListContacts", R"({"pageSize":1001})", "page_size"},
      {"crm.pipeline.v1.PipelineService.ListDeals", R"({"pageSize":100000})", "page_size"},
      {"crm.tasks.v1.TasksService.ListTasks", R"({"pageSize":-1})", "page_size"},
      {"crm.contacts.v1.ContactsService.ListContacts",
       R"({"filter":")" + repeated("tags:t", 400, " OR ") + R"("})", "filter"},
      {"crm.contacts.v1.ContactsService.ListContacts",
       R"({"filter":")" + std::string(40, '(') + "tags:x" + std::string(40, ')') + R"("})",
       "filter"},
      {"crm.contacts.v1.ContactsService.ListContacts",
       R"({"filter":")" + repeated("tags:t", 100, " AND ") + R"("})", "filter"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":")" + std::string(201, 'a') + R"("}})", "contact.given_name"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":"T","tags":[")" + repeated("t", 51, R"(",")") + R"("]}})",
       "contact.tags"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":"A","attributes":{)" + attributes + "}}}", "contact.attributes"},
      {"crm.contacts.v1.ContactsService.CreateContact",
       R"({"contact":{"givenName":"E","emails":[")" + repeated("e@x.example", 11, R"(",")") +
           R"("]}})",
       "contact.emails"},
      {"crm.tasks.v1.TasksService.CreateTask",
       R"({"task":{"title":")" + std::string(100000, 't') + R"("}})", "task.title"},
      {"crm.contacts.v1.ContactsService.PreviewSegmentMessages",
       R"({"name":"segments/00000000-0000-7000-8000-000000000000","template":")" +
           std::string(10001, 'x') + R"("})",
       "template"},
  };
  for (const auto& [method, json, field] : cases) {
    const Reply reply = Call(method, json, rep);
    EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << " " << field << ": " << reply.status.error_message();
    EXPECT_TRUE(absl::StrContains(reply.status.error_message(), field) ||
                absl::StrContains(reply.status.error_details(), field))
        << method << " does not name " << field << ": " << reply.status.error_message();
  }
  // A request larger than gRPC's 4 MiB message bound never reaches the service code.
  const Reply huge = Call("crm.contacts.v1.ContactsService.ImportContactsFile",
                          R"({"csv":")" + std::string(5 << 20, 'x') + R"("})", rep);
  EXPECT_EQ(huge.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << huge.status.error_message();
}

// API7 (SSRF): without --webhook_allow_private_addresses, a tenant's webhook never reaches the
// service's own network — loopback (by address or by name), private ranges, cloud metadata — and
// each attempt says why.
TEST_F(SecuritySweepTest, WebhooksCannotReachInternalAddresses) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto tasks_process = testing::ServiceProcess::Start(
      CRM_TASKS_BIN,
      {"--db_url=" + database->ConnInfo("tasks"), testing::kJwtSecretFlag,
       testing::kServiceSecretFlag,
       absl::StrCat("--contacts_address=127.0.0.1:", stack_->contacts().grpc_port()),
       absl::StrCat("--pipeline_address=127.0.0.1:", stack_->pipeline().grpc_port()),
       "--reminder_max_sleep_ms=200", "--webhook_initial_backoff_ms=100"},
      absl::Seconds(30));
  ASSERT_TRUE(tasks_process.ok()) << tasks_process.status();
  auto stub =
      tasks::v1::TasksService::NewStub(testing::LocalChannel((*tasks_process)->grpc_port()));
  auto receiver = testing::HttpReceiver::Start();
  const std::string admin = testing::MintToken(kTenantA, "a-admin", {"admin"});
  const std::vector<std::string> urls = {
      receiver->url("/hook"),
      absl::StrCat("http://localhost:", receiver->port(), "/hook"),
      absl::StrCat("http://[::1]:", receiver->port(), "/hook"),
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/internal",
      "http://192.168.1.1/router"};
  std::vector<std::string> webhooks;
  for (const std::string& url : urls) {
    tasks::v1::CreateWebhookRequest create;
    create.mutable_webhook()->set_url(url);
    tasks::v1::Webhook webhook;
    const grpc::Status status =
        stub->CreateWebhook(testing::AuthedContext(admin).get(), create, &webhook);
    ASSERT_TRUE(status.ok()) << url << ": " << status.error_message();
    webhooks.push_back(webhook.name());
  }
  tasks::v1::CreateTaskRequest task;
  task.mutable_task()->set_title("Fire the webhooks");
  task.mutable_task()->mutable_reminder_time()->set_seconds(
      absl::ToUnixSeconds(absl::Now() + absl::Seconds(1)));
  tasks::v1::Task created;
  ASSERT_TRUE(stub->CreateTask(testing::AuthedContext(admin).get(), task, &created).ok());

  auto attempts_of = [&](const std::string& webhook) {
    tasks::v1::ListWebhookDeliveriesRequest list;
    list.set_parent(webhook);
    tasks::v1::ListWebhookDeliveriesResponse deliveries;
    (void)stub->ListWebhookDeliveries(testing::AuthedContext(admin).get(), list, &deliveries);
    std::vector<tasks::v1::DeliveryAttempt> attempts;
    for (const auto& d : deliveries.deliveries()) {
      attempts.insert(attempts.end(), d.attempts().begin(), d.attempts().end());
    }
    return attempts;
  };
  for (size_t i = 0; i < webhooks.size(); ++i) {
    ASSERT_TRUE(
        testing::WaitUntil([&] { return attempts_of(webhooks[i]).size() >= 2; }, absl::Seconds(30)))
        << urls[i] << " was never attempted";
    for (const auto& attempt : attempts_of(webhooks[i])) {
      EXPECT_EQ(attempt.http_status(), 0) << urls[i];
      // An address in the URL is said to be internal; for a name only that no answer came, so
      // that an admin cannot map which internal names exist.
      if (absl::StrContains(urls[i], "localhost")) {
        EXPECT_THAT(attempt.error(), ::testing::HasSubstr("no HTTP answer")) << urls[i];
        EXPECT_THAT(attempt.error(), ::testing::Not(::testing::HasSubstr("internal"))) << urls[i];
      } else {
        EXPECT_THAT(attempt.error(), ::testing::HasSubstr("internal")) << urls[i];
      }
    }
  }
  EXPECT_TRUE(receiver->requests().empty()) << "a webhook reached the loopback receiver";
}

// Runs last (gtest runs tests in the order they are defined): every earlier test's tokens,
// webhook secrets and the JWT key must be nowhere in the services' logs.
TEST_F(SecuritySweepTest, ZzSecretsNeverReachLogsOrErrors) {
  const Reply hook = Call("crm.tasks.v1.TasksService.CreateWebhook",
                          R"({"webhook":{"url":"http://127.0.0.1:9/logged"}})",
                          Bearer(kTenantA, "a-admin", "admin"));
  ASSERT_TRUE(hook.status.ok()) << hook.status.error_message();
  tasks::v1::Webhook webhook;
  ASSERT_TRUE(webhook.ParseFromString(hook.bytes));
  ASSERT_FALSE(webhook.secret().empty());
  // A bad call that carries the token in several places.
  const std::string token = testing::MintToken(kTenantA, "a-admin", {"admin"});
  (void)Call("crm.contacts.v1.ContactsService.GetContact",
             R"({"name":"contacts/)" + token + R"("})", "Bearer " + token);
  // Listing webhooks never shows the secret again.
  const Reply listed =
      Call("crm.tasks.v1.TasksService.ListWebhooks", "{}", Bearer(kTenantA, "a-admin", "admin"));
  EXPECT_FALSE(absl::StrContains(listed.bytes, webhook.secret()));

  const std::string logs = ReadLogs();
  ASSERT_FALSE(logs.empty());
  EXPECT_FALSE(absl::StrContains(logs, testing::kTestJwtSecret)) << "JWT key in a log";
  EXPECT_FALSE(absl::StrContains(logs, webhook.secret())) << "webhook secret in a log";
  EXPECT_FALSE(absl::StrContains(logs, token.substr(token.rfind('.') + 1)))
      << "token signature in a log";
  for (const auto& [what, authorization] : BadAuthorizations()) {
    const std::string bad = authorization.substr(authorization.find(' ') + 1);
    if (bad.size() < 20) continue;
    EXPECT_FALSE(absl::StrContains(logs, bad)) << what << " token in a log";
    const std::string signature = bad.substr(bad.rfind('.') + 1);
    if (signature.size() > 8) {
      EXPECT_FALSE(absl::StrContains(logs, signature)) << what << " signature in a log";
    }
  }
  EXPECT_FALSE(absl::StrContains(logs, "password=")) << "database password in a log";
}

}  // namespace
}  // namespace crm
