// The gateway in front of the real services: HTTP/JSON calls, errors with their details, etags,
// limits (413, 429), CORS, server-sent events that end when the client hangs up, health, metrics
// and the OpenAPI document.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/testing/http_client.h"
#include "tests/e2e/stack.h"

namespace crm {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::HttpCall;
using testing::HttpResponse;

class GatewayE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::StackOptions options;
    options.gateway_flags = {"--max_body_bytes=4096", "--rate_burst=40", "--rate_per_second=5",
                             "--cors_origins=http://localhost:3000"};
    auto stack = testing::Stack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
  }
  static void TearDownTestSuite() { delete stack_; }

  static std::map<std::string, std::string> Auth(const std::string& user,
                                                 const std::string& tenant = "acme",
                                                 const std::string& role = "rep") {
    return {{"Authorization", "Bearer " + testing::MintToken(tenant, user, {role})},
            {"Content-Type", "application/json"}};
  }
  static HttpResponse Call(const std::string& method, const std::string& path,
                           const std::map<std::string, std::string>& headers,
                           const std::string& body = "") {
    auto response = HttpCall(method, stack_->url(path), headers, body);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.value_or(HttpResponse{});
  }

  static testing::Stack* stack_;
};

testing::Stack* GatewayE2eTest::stack_ = nullptr;

TEST_F(GatewayE2eTest, ResourcesOverHttpWithEtagsAndErrorDetails) {
  const auto alice = Auth("alice");
  HttpResponse created =
      Call("POST", "/v1/contacts", alice, R"({"givenName":"Anna","emails":["anna@gw.example"]})");
  ASSERT_EQ(created.status, 200) << created.body;
  const json contact = json::parse(created.body);
  const std::string name = contact["name"];
  EXPECT_EQ(created.headers["etag"], "\"" + contact["etag"].get<std::string>() + "\"");

  HttpResponse fetched = Call("GET", "/v1/" + name, alice);
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(json::parse(fetched.body)["givenName"], "Anna");

  // A stale If-Match is a conflict; the current one goes through.
  auto with_etag = alice;
  with_etag["If-Match"] = "\"999\"";
  EXPECT_EQ(Call("PATCH", "/v1/" + name, with_etag, R"({"familyName":"P"})").status, 409);
  with_etag["If-Match"] = created.headers["etag"];
  HttpResponse patched = Call("PATCH", "/v1/" + name, with_etag, R"({"familyName":"P"})");
  EXPECT_EQ(patched.status, 200) << patched.body;

  // The duplicate says which record holds the email (google.rpc.ResourceInfo).
  HttpResponse duplicate =
      Call("POST", "/v1/contacts", alice, R"({"givenName":"A","emails":["ANNA@gw.example"]})");
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_THAT(duplicate.body, HasSubstr("google.rpc.ResourceInfo"));
  EXPECT_THAT(duplicate.body, HasSubstr(name));
  // A bad field is 400 with the field named.
  HttpResponse bad = Call("POST", "/v1/tasks", alice, R"({"title":""})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("\"field\":\"task.title\""));
  EXPECT_EQ(Call("POST", "/v1/tasks", alice, R"({"title":)").status, 400);
  EXPECT_EQ(Call("POST", "/v1/tasks", alice, R"({"title":"x","nope":1})").status, 400);
  // No token, unknown path, wrong verb.
  EXPECT_EQ(Call("GET", "/v1/contacts", {}).status, 401);
  EXPECT_EQ(Call("GET", "/v1/nothing", alice).status, 404);
  HttpResponse wrong_verb = Call("PUT", "/v1/contacts", alice, "{}");
  EXPECT_EQ(wrong_verb.status, 405);
  EXPECT_THAT(wrong_verb.headers["allow"], HasSubstr("POST"));
  EXPECT_EQ(Call("GET", "/v1/" + name, Auth("alice", "other-tenant")).status, 404);
}

TEST_F(GatewayE2eTest, CustomFieldsOverHttpReadLikeTheirTypes) {
  const auto admin = Auth("ada", "cf-tenant", "admin");
  const auto rep = Auth("rex", "cf-tenant", "rep");
  HttpResponse defined =
      Call("POST", "/v1/objectTypes/contact/customFields", admin,
           R"({"key":"deal_tier","label":"Tier","type":"CUSTOM_FIELD_TYPE_SINGLE_SELECT",
                                  "options":[{"label":"Gold"},{"label":"Silver"}]})");
  ASSERT_EQ(defined.status, 200) << defined.body;
  EXPECT_EQ(json::parse(defined.body)["name"], "objectTypes/contact/customFields/deal_tier");
  EXPECT_EQ(Call("POST", "/v1/objectTypes/contact/customFields", rep,
                 R"({"key":"x","label":"X","type":"CUSTOM_FIELD_TYPE_TEXT"})")
                .status,
            403);
  ASSERT_EQ(Call("POST", "/v1/objectTypes/contact/customFields", admin,
                 R"({"key":"arr","label":"ARR","type":"CUSTOM_FIELD_TYPE_NUMBER","scale":2})")
                .status,
            200);

  HttpResponse created = Call(
      "POST", "/v1/contacts", rep,
      R"({"givenName":"Cf","customFields":{"dealTier":{"option":"gold"},"arr":{"number":"10.5"}}})");
  // JSON map keys are the stored keys, not camel-cased.
  EXPECT_EQ(created.status, 400) << created.body;
  EXPECT_THAT(created.body, HasSubstr("contact.custom_fields.dealTier"));
  created = Call(
      "POST", "/v1/contacts", rep,
      R"({"givenName":"Cf","customFields":{"deal_tier":{"option":"gold"},"arr":{"number":"10.5"}}})");
  ASSERT_EQ(created.status, 200) << created.body;
  const json contact = json::parse(created.body);
  EXPECT_EQ(contact["customFields"]["deal_tier"]["option"], "gold");
  const std::string name = contact["name"];

  HttpResponse patched = Call("PATCH", "/v1/" + name + "?updateMask=customFields.deal_tier", rep,
                              R"({"customFields":{"deal_tier":{"option":"silver"}}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  const json after = json::parse(patched.body);
  EXPECT_EQ(after["customFields"]["deal_tier"]["option"], "silver");
  EXPECT_EQ(after["customFields"]["arr"]["number"], "10.5");

  HttpResponse listed =
      Call("GET", "/v1/contacts?filter=custom_fields.deal_tier%20%3D%20silver", rep);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_THAT(listed.body, HasSubstr(name));
  HttpResponse bad = Call("POST", "/v1/contacts", rep,
                          R"({"givenName":"Bad","customFields":{"arr":{"number":"1.234"}}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("\"field\":\"contact.custom_fields.arr\""));

  // Deals have fields of their own, served by the pipeline service behind the same door.
  HttpResponse deal_field =
      Call("POST", "/v1/objectTypes/deal/customFields", admin,
           R"({"key":"erp_id","label":"ERP id","type":"CUSTOM_FIELD_TYPE_TEXT","unique":true})");
  ASSERT_EQ(deal_field.status, 200) << deal_field.body;
  EXPECT_EQ(json::parse(deal_field.body)["name"], "objectTypes/deal/customFields/erp_id");
  HttpResponse deal =
      Call("POST", "/v1/deals", rep,
           R"({"displayName":"Cf deal","amount":{"currencyCode":"EUR","amountMinor":"100"},
                               "customFields":{"erp_id":{"text":"SO-7"}}})");
  ASSERT_EQ(deal.status, 200) << deal.body;
  EXPECT_EQ(json::parse(deal.body)["customFields"]["erp_id"]["text"], "SO-7");
  HttpResponse twin =
      Call("POST", "/v1/deals", rep,
           R"({"displayName":"Twin","amount":{"currencyCode":"EUR","amountMinor":"1"},
                               "customFields":{"erp_id":{"text":"SO-7"}}})");
  EXPECT_EQ(twin.status, 409) << twin.body;
  EXPECT_THAT(twin.body, HasSubstr(json::parse(deal.body)["name"].get<std::string>()));
}

TEST_F(GatewayE2eTest, LimitsAnswer413And429WithRateLimitHeaders) {
  const auto carol = Auth("carol");
  HttpResponse big = Call("POST", "/v1/tasks", carol,
                          absl::StrCat(R"({"title":")", std::string(5000, 'x'), R"("})"));
  EXPECT_EQ(big.status, 413);
  int limited = 0;
  HttpResponse last;
  for (int i = 0; i < 60; ++i) {
    last = Call("GET", "/v1/tasks", carol);
    if (last.status == 429) {
      ++limited;
      break;
    }
    EXPECT_EQ(last.status, 200);
    EXPECT_FALSE(last.headers["ratelimit-remaining"].empty());
  }
  EXPECT_EQ(limited, 1);
  EXPECT_EQ(last.headers["ratelimit-limit"], "40");
  EXPECT_EQ(last.headers["ratelimit-remaining"], "0");
  EXPECT_FALSE(last.headers["retry-after"].empty());
  // Another token is not held back by carol's.
  EXPECT_EQ(Call("GET", "/v1/tasks", Auth("dave")).status, 200);
}

TEST_F(GatewayE2eTest, CorsForConfiguredOriginsOnly) {
  HttpResponse preflight =
      Call("OPTIONS", "/v1/contacts",
           {{"Origin", "http://localhost:3000"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "http://localhost:3000");
  EXPECT_THAT(preflight.headers["access-control-allow-methods"], HasSubstr("POST"));
  auto headers = Auth("erin");
  headers["Origin"] = "http://evil.example";
  HttpResponse other = Call("GET", "/v1/tasks", headers);
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
}

TEST_F(GatewayE2eTest, NotificationsStreamAsServerSentEventsAndEndWhenTheClientLeaves) {
  const auto frank = Auth("frank");
  std::string seen;
  std::string task_name;
  std::thread creator;
  auto status = testing::HttpStream(
      stack_->url("/v1/notifications:watch"), frank,
      [&](const std::string& data) {
        seen += data;
        if (!creator.joinable()) {  // the stream is open: make a reminder fire
          creator = std::thread([&] {
            HttpResponse created =
                Call("POST", "/v1/tasks", frank,
                     absl::StrCat(R"({"title":"SSE","reminderTime":")",
                                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                                                   absl::Now() + absl::Milliseconds(300),
                                                   absl::UTCTimeZone()),
                                  "\"}"));
            EXPECT_EQ(created.status, 200) << created.body;
            task_name = json::parse(created.body).value("name", "");
          });
        }
        return seen.find("data: ") == std::string::npos;  // hang up after the first event
      },
      absl::Seconds(30));
  if (creator.joinable()) creator.join();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, 200);
  const size_t data = seen.find("data: ");
  ASSERT_NE(data, std::string::npos) << seen;
  const json event = json::parse(seen.substr(data + 6, seen.find("\n", data) - data - 6));
  EXPECT_EQ(event["task"], task_name);
  EXPECT_EQ(event["recipient"], "frank");
  // The gateway notices the hang-up within its heartbeat and closes the stream.
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = Call("GET", "/metrics", {}).body.find("crm_http_open_streams 0") != std::string::npos;
    if (!closed) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(closed);
}

TEST_F(GatewayE2eTest, HealthMetricsAndOpenApi) {
  EXPECT_EQ(Call("GET", "/healthz", {}).status, 200);
  HttpResponse ready = Call("GET", "/readyz", {});
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("\"reporting\":\"serving\""));
  HttpResponse openapi = Call("GET", "/openapi.json", {});
  ASSERT_EQ(openapi.status, 200);
  const json doc = json::parse(openapi.body);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["paths"].contains("/v1/contacts"));
  EXPECT_TRUE(doc["paths"]["/v1/contacts/{name}"].contains("get"));
  EXPECT_TRUE(doc["components"]["schemas"].contains("crm.tasks.v1.Task"));
  HttpResponse docs = Call("GET", "/docs/", {});
  EXPECT_EQ(docs.status, 200);
  EXPECT_THAT(docs.body, HasSubstr("swagger-ui-bundle.js"));
  Call("GET", "/v1/contacts/00000000-0000-7000-8000-000000000000", Auth("gina"));  // a route hit
  const std::string metrics = Call("GET", "/metrics", {}).body;
  EXPECT_THAT(metrics, HasSubstr("crm_http_requests_total{"));
  EXPECT_THAT(metrics, HasSubstr("route=\"GET /v1/{name=contacts/*}\""));
  EXPECT_THAT(metrics, HasSubstr("crm_http_request_duration_seconds_bucket"));
  EXPECT_THAT(metrics, HasSubstr("process_resident_memory_bytes"));
}

}  // namespace
}  // namespace crm
