// The seed document's seven scenarios, end to end through the HTTP gateway in front of the real
// services on a real PostgreSQL, each a test named after it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ids/uuid.h"
#include "common/testing/calendar.h"
#include "common/testing/http_client.h"
#include "common/testing/http_receiver.h"
#include "common/testing/wait.h"
#include "services/tasks/webhook_signature.h"
#include "tests/e2e/stack.h"

namespace crm {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::HttpResponse;
using testing::WaitUntil;

class SeedScenarios : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::StackOptions options;
    options.gateway_flags = {"--docs_dir=" CRM_SWAGGER_UI_DIR, "--rate_burst=1000"};
    auto stack = testing::Stack::Start(options);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = stack->release();
  }
  static void TearDownTestSuite() { delete stack_; }

  // Each test its own tenant, so they neither see nor disturb each other.
  void SetUp() override { tenant_ = "seed-" + ids::NewUuidV7().substr(24); }

  std::map<std::string, std::string> As(const std::string& user, const std::string& role = "rep",
                                        const std::string& tenant = "") const {
    return {{"Authorization",
             "Bearer " + testing::MintToken(tenant.empty() ? tenant_ : tenant, user, {role})},
            {"Content-Type", "application/json"}};
  }
  static json Ok(const std::string& method, const std::string& path,
                 const std::map<std::string, std::string>& headers, const json& body = nullptr) {
    HttpResponse r = Call(method, path, headers, body);
    EXPECT_EQ(r.status, 200) << method << " " << path << ": " << r.body;
    return r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
  }
  static HttpResponse Call(const std::string& method, const std::string& path,
                           const std::map<std::string, std::string>& headers,
                           const json& body = nullptr) {
    auto r =
        testing::HttpCall(method, stack_->url(path), headers, body.is_null() ? "" : body.dump());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(HttpResponse{});
  }
  // The won stage of the tenant's default pipeline, and its open stages in order.
  std::pair<std::string, std::vector<std::string>> Stages(
      const std::map<std::string, std::string>& who) {
    const json pipelines = Ok("GET", "/v1/pipelines", who);
    std::string won;
    std::vector<std::string> open;
    for (const auto& stage : pipelines["pipelines"][0]["stages"]) {
      if (stage.value("kind", "") == "STAGE_KIND_WON") won = stage["id"];
      if (stage.value("kind", "") == "STAGE_KIND_OPEN") open.push_back(stage["id"]);
    }
    return {won, open};
  }
  json WinDeal(const std::map<std::string, std::string>& who, const std::string& name,
               int64_t amount_minor) {
    json deal =
        Ok("POST", "/v1/deals", who,
           {{"displayName", name},
            {"amount", {{"amountMinor", std::to_string(amount_minor)}, {"currencyCode", "USD"}}}});
    return Ok("POST", "/v1/" + deal["name"].get<std::string>() + ":move", who,
              {{"stage", Stages(who).first}, {"etag", deal["etag"]}});
  }

  static testing::Stack* stack_;
  std::string tenant_;
};

testing::Stack* SeedScenarios::stack_ = nullptr;

TEST_F(SeedScenarios,
       ThreeRepsImportOverlappingLeadListsAndEndWithOnePersonEachAndSeeWhoCalledLast) {
  // Twelve people; each rep's list has eight, overlapping, with other casing and phone formats.
  auto row = [](int i, int variant) {
    const std::string email = variant == 1 ? absl::StrCat("Lead", i, "@Example.COM")
                                           : absl::StrCat("lead", i, "@example.com");
    return absl::StrCat("Lead", i, ",Person,", email, "\n");
  };
  const std::vector<std::vector<int>> lists = {
      {0, 1, 2, 3, 4, 5, 6, 7}, {4, 5, 6, 7, 8, 9, 10, 11}, {0, 2, 4, 6, 8, 10, 1, 3}};
  for (size_t rep = 0; rep < lists.size(); ++rep) {
    std::string csv = "first name,last name,email\n";
    for (int i : lists[rep]) csv += row(i, static_cast<int>(rep));
    const json report = Ok("POST", "/v1/contacts:import", As(absl::StrCat("rep", rep)),
                           {{"options", {{"importId", absl::StrCat("list-", rep)}}}, {"csv", csv}});
    EXPECT_EQ(report["rows"].size(), lists[rep].size()) << report.dump();
  }
  std::set<std::string> emails;
  const json listed = Ok("GET", "/v1/contacts?pageSize=100", As("rep0"));
  for (const auto& c : listed["contacts"]) emails.insert(c["emails"][0]);
  EXPECT_EQ(listed["contacts"].size(), 12u);
  EXPECT_EQ(emails.size(), 12u);
  // rep1 calls lead5; rep2 opens lead5 and sees that rep1 called.
  const json lead5 = Ok(
      "GET", "/v1/contacts?filter=" + absl::StrCat("emails:%22lead5%40example.com%22"), As("rep1"));
  ASSERT_EQ(lead5["contacts"].size(), 1u) << lead5.dump();
  const std::string name = lead5["contacts"][0]["name"];
  Ok("POST", "/v1/activities", As("rep1"),
     {{"kind", "ACTIVITY_KIND_CALL"}, {"contact", name}, {"subject", "Intro call"}});
  const json seen = Ok("GET", "/v1/" + name, As("rep2"));
  EXPECT_EQ(seen["lastContactedBy"], "rep1");
  EXPECT_TRUE(seen.contains("lastContactedTime"));
}

TEST_F(SeedScenarios, ADealMovesThroughTheDefaultStagesWithHistoryAndAStaleEtagConflict) {
  const auto rep = As("ana");
  const auto [won, open] = Stages(rep);
  ASSERT_EQ(open.size(), 8u);  // Salesforce's standard process
  json deal = Ok(
      "POST", "/v1/deals", rep,
      {{"displayName", "Acme"}, {"amount", {{"amountMinor", "990000"}, {"currencyCode", "AMD"}}}});
  const std::string name = deal["name"];
  const std::string first_etag = deal["etag"];
  for (size_t i = 1; i < open.size(); ++i) {
    deal = Ok("POST", "/v1/" + name + ":move", rep, {{"stage", open[i]}, {"etag", deal["etag"]}});
  }
  // A move with the etag read at the start is refused: someone changed the deal since.
  HttpResponse stale =
      Call("POST", "/v1/" + name + ":move", rep, {{"stage", won}, {"etag", first_etag}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  auto with_if_match = rep;
  with_if_match["If-Match"] = "\"" + deal["etag"].get<std::string>() + "\"";
  deal = Ok("POST", "/v1/" + name + ":move", with_if_match, {{"stage", won}});
  EXPECT_TRUE(deal.contains("closeTime"));
  const json history = Ok("GET", "/v1/" + name + "/stageHistory", rep);
  ASSERT_EQ(history["changes"].size(), open.size() + 1);  // created in the first, then 8 moves
  EXPECT_EQ(history["changes"].back()["toStage"], won);
}

TEST_F(SeedScenarios, WeeklyMonthlyQuarterlyAndYearlyReportsAsJsonCsvAndSvgMatchTheData) {
  const auto ana = As("ana"), ben = As("ben");
  // The three wins happen on one UTC day (the tenant's zone), so in one week, month, quarter and
  // year; the reports are asked about that day even if they run after midnight.
  const std::string day = testing::UtcDayWithRoomFor(absl::Seconds(20));
  WinDeal(ana, "A1", 100000);
  WinDeal(ana, "A2", 250000);
  WinDeal(ben, "B1", 70000);
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"ana", {"2", "350000"}}, {"ben", {"1", "70000"}}};
  for (const char* period :
       {"PERIOD_KIND_WEEK", "PERIOD_KIND_MONTH", "PERIOD_KIND_QUARTER", "PERIOD_KIND_YEAR"}) {
    const std::string query = absl::StrCat("spec.kind=REPORT_KIND_WON_LOST&spec.period=", period,
                                           "&spec.anchorDate=", day);
    json report;
    ASSERT_TRUE(WaitUntil(
        [&] {
          report = Ok("GET", "/v1/reports:run?" + query, ana);
          return report["totals"]["cells"].size() > 3 && report["totals"]["cells"][2] == "3";
        },
        absl::Seconds(30)))
        << report.dump();
    std::map<std::string, std::pair<std::string, std::string>> rows;
    for (const auto& r : report["rows"]) rows[r["cells"][0]] = {r["cells"][2], r["cells"][3]};
    EXPECT_EQ(rows, expected) << period;
    EXPECT_EQ(report["totals"]["cells"][3], "420000");
    HttpResponse csv = Call("GET", "/v1/reports:export?" + query + "&format=csv&alt=media", ana);
    EXPECT_EQ(csv.status, 200);
    EXPECT_THAT(csv.headers["content-type"], HasSubstr("text/csv"));
    EXPECT_THAT(csv.body, HasSubstr("ana,USD,2,350000,"));
    EXPECT_THAT(csv.body, HasSubstr("total,USD,3,420000,"));
    HttpResponse svg = Call("GET", "/v1/reports:export?" + query + "&format=svg&alt=media", ana);
    EXPECT_EQ(svg.headers["content-type"], "image/svg+xml");
    EXPECT_THAT(svg.body, HasSubstr("data-category=\"ana\""));
    EXPECT_THAT(svg.body, HasSubstr("data-value=\"350000\""));
    EXPECT_THAT(svg.body, HasSubstr("data-value=\"70000\""));
  }
}

TEST_F(SeedScenarios,
       ATaskWithAReminderFiresOneNotificationOnTheStreamInTheInboxAndOneSignedWebhook) {
  auto receiver = testing::HttpReceiver::Start();
  const json webhook = Ok("POST", "/v1/webhooks", As("root", "admin"), {{"url", receiver->url()}});
  const auto rep = As("tina");
  std::string seen;
  std::thread creator;
  auto streamed = testing::HttpStream(
      stack_->url("/v1/notifications:watch"), rep,
      [&](const std::string& data) {
        seen += data;
        if (!creator.joinable()) {
          creator = std::thread([&] {
            Ok("POST", "/v1/tasks", rep,
               {{"title", "Call Anna"},
                {"reminderTime",
                 absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now() + absl::Milliseconds(500),
                                  absl::UTCTimeZone())}});
          });
        }
        return !absl::StrContains(seen, "data: ");
      },
      absl::Seconds(30));
  if (creator.joinable()) creator.join();
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  EXPECT_THAT(seen, HasSubstr("Reminder: Call Anna"));
  const json inbox = Ok("GET", "/v1/notifications", rep);
  ASSERT_EQ(inbox["notifications"].size(), 1u);
  const auto requests = receiver->WaitFor(1, absl::Seconds(20));
  ASSERT_EQ(requests.size(), 1u);
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(receiver->requests().size(), 1u);  // exactly one
  const std::string signature = requests[0].headers.at("x-crm-signature");
  const int64_t t = std::stoll(signature.substr(2, signature.find(',') - 2));
  EXPECT_EQ(signature,
            tasks::WebhookSignature(webhook["secret"].get<std::string>(), t, requests[0].body));
}

TEST_F(SeedScenarios,
       AWonSubscriptionProducesARenewalDealAndTaskBeforeItsEndAndACrossSellSuggestion) {
  const auto admin = As("root", "admin"), rep = As("sam");
  // A one-month term lasts 28 to 31 days depending on the month it starts in; a 45-day lead time
  // puts every start date inside the renewal window (the default 30 days would not on Dec 2).
  Ok("PATCH", "/v1/tenantSettings", admin, {{"renewalLeadDays", 45}});
  const json addon = Ok("POST", "/v1/products", admin,
                        {{"sku", "ADDON"},
                         {"displayName", "Analytics add-on"},
                         {"listPrice", {{"amountMinor", "2000"}, {"currencyCode", "USD"}}},
                         {"billing", "BILLING_TYPE_ONE_TIME"}});
  const json plan = Ok("POST", "/v1/products", admin,
                       {{"sku", "PLAN"},
                        {"displayName", "Monthly plan"},
                        {"listPrice", {{"amountMinor", "5000"}, {"currencyCode", "USD"}}},
                        {"billing", "BILLING_TYPE_SUBSCRIPTION"},
                        {"termMonths", 1},
                        {"complementaryProducts", {addon["name"]}}});
  const json contact =
      Ok("POST", "/v1/contacts", rep, {{"givenName", "Vera"}, {"emails", {"vera@sub.example"}}});
  json deal =
      Ok("POST", "/v1/deals", rep, {{"displayName", "Vera's plan"}, {"contact", contact["name"]}});
  deal =
      Ok("POST", "/v1/" + deal["name"].get<std::string>() + ":setLineItems", rep,
         {{"etag", deal["etag"]}, {"lineItems", {{{"product", plan["name"]}, {"quantity", 1}}}}});
  Ok("POST", "/v1/" + deal["name"].get<std::string>() + ":move", rep,
     {{"stage", Stages(rep).first}, {"etag", deal["etag"]}});
  const json purchases = Ok("GET", "/v1/purchases?parent=" + deal["name"].get<std::string>(), rep);
  ASSERT_EQ(purchases["purchases"].size(), 1u) << purchases.dump();
  const std::string end_date = purchases["purchases"][0]["endDate"];
  json renewals;
  ASSERT_TRUE(WaitUntil(
      [&] {
        renewals = Ok("GET", "/v1/deals?filter=lead_source%20%3D%20%22renewal%22", rep);
        return renewals.contains("deals") && renewals["deals"].size() == 1;
      },
      absl::Seconds(30)));
  EXPECT_EQ(renewals["deals"][0]["expectedCloseDate"], end_date);
  EXPECT_EQ(renewals["deals"][0]["owner"], "sam");
  json tasks;
  ASSERT_TRUE(WaitUntil(
      [&] {
        tasks = Ok("GET", "/v1/tasks?filter=assignee%20%3D%20me", rep);
        return tasks.contains("tasks") && tasks["tasks"].size() == 1;
      },
      absl::Seconds(30)));
  EXPECT_EQ(tasks["tasks"][0]["deal"], renewals["deals"][0]["name"]);
  const std::string due = tasks["tasks"][0]["dueTime"];
  EXPECT_LE(due.substr(0, 10), end_date);  // the follow-up is due before the contract ends
  const json cross = Ok("GET", "/v1/crossSell?customer=" + contact["name"].get<std::string>(), rep);
  ASSERT_EQ(cross["suggestions"].size(), 1u) << cross.dump();
  EXPECT_EQ(cross["suggestions"][0]["product"]["name"], addon["name"]);
}

TEST_F(SeedScenarios, ASegmentOfCustomersIsExportedAsCsvWithPersonalisedMessages) {
  const auto rep = As("mia");
  for (const auto& [given, stage] :
       std::vector<std::pair<std::string, std::string>>{{"Anna", "LIFECYCLE_STAGE_CUSTOMER"},
                                                        {"Boris", "LIFECYCLE_STAGE_CUSTOMER"},
                                                        {"Carl", "LIFECYCLE_STAGE_LEAD"}}) {
    Ok("POST", "/v1/contacts", rep,
       {{"givenName", given}, {"emails", {given + "@seg.example"}}, {"lifecycleStage", stage}});
  }
  const json segment = Ok("POST", "/v1/segments", rep,
                          {{"displayName", "Customers"}, {"filter", "lifecycle_stage = CUSTOMER"}});
  std::string events;
  auto streamed = testing::HttpStream(
      stack_->url("/v1/" + segment["name"].get<std::string>() +
                  ":export?messageTemplate=Hello%20%7B%7Bgiven_name%7D%7D%2C%20thank%20you"),
      rep,
      [&](const std::string& data) {
        events += data;
        return true;
      },
      absl::Seconds(30));
  ASSERT_TRUE(streamed.ok()) << streamed.status();
  std::string csv;
  for (absl::string_view line : absl::StrSplit(events, '\n')) {
    if (!absl::ConsumePrefix(&line, "data: ")) continue;
    const json chunk = json::parse(line);
    std::string bytes;
    ASSERT_TRUE(absl::Base64Unescape(chunk.value("data", ""), &bytes));
    csv += bytes;
  }
  EXPECT_THAT(csv, HasSubstr("Hello Anna, thank you"));
  EXPECT_THAT(csv, HasSubstr("Hello Boris, thank you"));
  EXPECT_THAT(csv, ::testing::Not(HasSubstr("Carl")));
}

TEST_F(SeedScenarios, TheSameCallsFromASecondTenantSeeNoneOfTheFirstAndABrowserLoadsDocsAndAChart) {
  const auto first = As("ola");
  const json contact =
      Ok("POST", "/v1/contacts", first, {{"givenName", "Private"}, {"emails", {"p@one.example"}}});
  // The chart below is of the year the deal was won in, even if it loads after New Year.
  const std::string day = testing::UtcDayWithRoomFor(absl::Seconds(10));
  WinDeal(first, "Secret deal", 123400);
  Ok("POST", "/v1/tasks", first, {{"title", "Secret task"}});
  const auto second = As("ola", "admin", tenant_ + "-other");
  EXPECT_EQ(Call("GET", "/v1/" + contact["name"].get<std::string>(), second).status, 404);
  EXPECT_FALSE(Ok("GET", "/v1/contacts", second).contains("contacts"));
  EXPECT_FALSE(Ok("GET", "/v1/deals", second).contains("deals"));
  EXPECT_FALSE(Ok("GET", "/v1/tasks", second).contains("tasks"));
  const json report = Ok(
      "GET", "/v1/reports:run?spec.kind=REPORT_KIND_WON_LOST&spec.period=PERIOD_KIND_YEAR", second);
  EXPECT_FALSE(report.contains("rows"));

  // A real browser renders the API docs (Swagger UI reads /openapi.json) and a report chart.
  const std::string chromium = "/usr/bin/chromium";
  // The browser keeps the real clock when make test-dates shifts this process tree's (Chromium
  // stalls under libfaketime, and a user's browser has its own clock anyway).
  auto dump = [&](const std::string& url) {
    const std::string command =
        absl::StrCat("env -u LD_PRELOAD -u FAKETIME ", chromium,
                     " --headless --no-sandbox --disable-gpu --no-proxy-server ",
                     "--virtual-time-budget=8000 --dump-dom '", url, "' 2>/dev/null");
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buffer[4096];
    size_t n = 0;
    while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    pclose(pipe);
    return out;
  };
  const std::string docs = dump(stack_->url("/docs/"));
  EXPECT_THAT(docs, HasSubstr("swagger-ui"));
  EXPECT_THAT(docs, HasSubstr("ContactsService"));  // rendered from /openapi.json by the UI
  // The chart as the browser sees it (the token goes in the query for a plain page load).
  const std::string token = first.at("Authorization").substr(7);
  const std::string chart = dump(stack_->url(
      "/v1/reports:export?spec.kind=REPORT_KIND_WON_LOST&spec.period=PERIOD_KIND_YEAR&format=svg"
      "&alt=media&spec.anchorDate=" +
      day + "&access_token=" + token));
  EXPECT_THAT(chart, HasSubstr("<svg"));
  EXPECT_THAT(chart, HasSubstr("data-value=\"123400\""));
}

}  // namespace
}  // namespace crm
