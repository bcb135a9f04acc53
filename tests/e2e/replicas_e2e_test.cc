// Two replicas of every service on one PostgreSQL behind the gateway, under a bounded load; one
// replica of each is killed with SIGKILL. No request acknowledged before the kill is lost,
// reminders and renewals still fire exactly once, and the event consumers are taken over.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/testing/calendar.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/http_client.h"
#include "common/testing/pg_test_db.h"

namespace crm {
namespace {

using nlohmann::json;
using testing::ServiceProcess;

const std::string& kSecret = testing::kJwtSecretFlag;
const std::string& kServiceSecret = testing::kServiceSecretFlag;

// Both replicas of a service as one gRPC target.
std::string Targets(const std::vector<std::unique_ptr<ServiceProcess>>& replicas) {
  std::vector<std::string> addresses;
  for (const auto& r : replicas) addresses.push_back(absl::StrCat("127.0.0.1:", r->grpc_port()));
  return "ipv4:" + absl::StrJoin(addresses, ",");
}

TEST(ReplicasE2eTest, KillingOneReplicaOfEachLosesNothingAndFiresEverythingOnce) {
  const absl::Time test_start = absl::Now();
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  std::map<std::string, std::vector<std::unique_ptr<ServiceProcess>>> replicas;
  auto start = [&](const std::string& name, const std::string& binary,
                   std::vector<std::string> args) {
    args.insert(args.begin(), {"--db_url=" + database->ConnInfo(name), kSecret, kServiceSecret});
    for (int i = 0; i < 2; ++i) {
      auto process = ServiceProcess::Start(binary, args, absl::Seconds(30));
      ASSERT_TRUE(process.ok()) << name << ": " << process.status();
      replicas[name].push_back(std::move(*process));
    }
  };
  start("contacts", CRM_CONTACTS_BIN, {});
  start("pipeline", CRM_PIPELINE_BIN,
        {"--contacts_address=" + Targets(replicas["contacts"]), "--renewal_interval_seconds=1",
         "--default_renewal_lead_days=400"});
  start("tasks", CRM_TASKS_BIN,
        {"--contacts_address=" + Targets(replicas["contacts"]),
         "--pipeline_address=" + Targets(replicas["pipeline"]), "--reminder_max_sleep_ms=200"});
  start("reporting", CRM_REPORTING_BIN,
        {"--contacts_address=" + Targets(replicas["contacts"]),
         "--pipeline_address=" + Targets(replicas["pipeline"]),
         "--tasks_address=" + Targets(replicas["tasks"])});
  auto gateway = ServiceProcess::Start(
      CRM_GATEWAY_BIN,
      {"--http_address=127.0.0.1:0", kSecret, "--rate_burst=100000", "--rate_per_second=100000",
       "--contacts_address=" + Targets(replicas["contacts"]),
       "--pipeline_address=" + Targets(replicas["pipeline"]),
       "--tasks_address=" + Targets(replicas["tasks"]),
       "--reporting_address=" + Targets(replicas["reporting"])},
      absl::Seconds(30));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  const std::string base = absl::StrCat("http://127.0.0.1:", (*gateway)->grpc_port());
  const std::map<std::string, std::string> rep = {
      {"Authorization", "Bearer " + testing::MintToken("acme", "rita", {"rep"})},
      {"Content-Type", "application/json"}};
  const std::map<std::string, std::string> admin = {
      {"Authorization", "Bearer " + testing::MintToken("acme", "root", {"admin"})},
      {"Content-Type", "application/json"}};
  auto call = [&](const std::string& method, const std::string& path,
                  const std::map<std::string, std::string>& who, const json& body = nullptr) {
    auto r = testing::HttpCall(method, base + path, who, body.is_null() ? "" : body.dump());
    return r.ok() ? *r : testing::HttpResponse{};
  };

  // Before the kill: a won subscription (its renewal is due), and reminders due after the kill.
  const json plan =
      json::parse(call("POST", "/v1/products", admin,
                       {{"sku", "PLAN"},
                        {"displayName", "Plan"},
                        {"listPrice", {{"amountMinor", "5000"}, {"currencyCode", "USD"}}},
                        {"billing", "BILLING_TYPE_SUBSCRIPTION"},
                        {"termMonths", 1}})
                      .body);
  json deal = json::parse(call("POST", "/v1/deals", rep, {{"displayName", "Sub"}}).body);
  deal = json::parse(
      call("POST", "/v1/" + deal["name"].get<std::string>() + ":setLineItems", rep,
           {{"etag", deal["etag"]}, {"lineItems", {{{"product", plan["name"]}, {"quantity", 1}}}}})
          .body);
  const json pipelines = json::parse(call("GET", "/v1/pipelines", rep).body);
  std::string won;
  for (const auto& s : pipelines["pipelines"][0]["stages"]) {
    if (s["kind"] == "STAGE_KIND_WON") won = s["id"];
  }
  ASSERT_EQ(call("POST", "/v1/" + deal["name"].get<std::string>() + ":move", rep,
                 {{"stage", won}, {"etag", deal["etag"]}})
                .status,
            200);
  constexpr int kReminders = 40;
  const std::string due =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now() + absl::Seconds(4), absl::UTCTimeZone());
  for (int i = 0; i < kReminders; ++i) {
    ASSERT_EQ(call("POST", "/v1/tasks", rep,
                   {{"title", absl::StrCat("reminder ", i)}, {"reminderTime", due}})
                  .status,
              200);
  }

  // A bounded load of creates; the first replica of every service dies in the middle of it.
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  for (int w = 0; w < 3; ++w) {
    load.emplace_back([&, w] {
      for (int i = 0; !stop && i < 400; ++i) {
        auto r = call(
            "POST", "/v1/contacts", rep,
            {{"givenName", "Load"}, {"emails", {absl::StrCat("w", w, "-", i, "@kill.example")}}});
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(json::parse(r.body)["name"]);
        }
      }
    });
  }
  absl::SleepFor(absl::Seconds(1));
  for (auto& [name, processes] : replicas) {
    auto killed = processes.front()->StopWith(SIGKILL, absl::Seconds(10));
    ASSERT_TRUE(killed.ok()) << name;
  }
  absl::SleepFor(absl::Seconds(2));
  stop = true;
  for (auto& t : load) t.join();
  ASSERT_GT(acknowledged.size(), 20u);

  // Every acknowledged create is there.
  int missing = 0;
  for (const std::string& name : acknowledged)
    missing += call("GET", "/v1/" + name, rep).status != 200;
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size();

  // Each reminder fired once, on the surviving replica.
  std::map<std::string, int> fired;
  ASSERT_TRUE([&] {
    for (int i = 0; i < 150; ++i) {
      fired.clear();
      const json inbox = json::parse(call("GET", "/v1/notifications?pageSize=1000", rep).body);
      for (const auto& n : inbox.value("notifications", json::array())) ++fired[n["task"]];
      if (fired.size() >= static_cast<size_t>(kReminders)) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }()) << fired.size();
  for (const auto& [task, times] : fired) EXPECT_EQ(times, 1) << task;

  // One renewal deal and one follow-up task, whichever replica made them.
  json renewals, tasks;
  for (int i = 0; i < 150; ++i) {
    renewals =
        json::parse(call("GET", "/v1/deals?filter=lead_source%20%3D%20%22renewal%22", rep).body);
    tasks = json::parse(call("GET", "/v1/tasks?filter=origin%3A*&pageSize=100", rep).body);
    if (renewals.value("deals", json::array()).size() >= 1) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(renewals.value("deals", json::array()).size(), 1u);

  // The consumers moved to the survivors: a deal won now reaches the report.
  json second = json::parse(call("POST", "/v1/deals", rep,
                                 {{"displayName", "After"},
                                  {"amount", {{"amountMinor", "100"}, {"currencyCode", "USD"}}}})
                                .body);
  ASSERT_EQ(call("POST", "/v1/" + second["name"].get<std::string>() + ":move", rep,
                 {{"stage", won}, {"etag", second["etag"]}})
                .status,
            200);
  bool reported = false;
  const auto range = testing::UtcRangeSince(test_start);  // even across a month's end
  for (int i = 0; i < 200 && !reported; ++i) {
    const json report = json::parse(
        call("GET",
             absl::StrCat("/v1/reports:run?spec.kind=REPORT_KIND_WON_LOST&spec.period=PERIOD_KIND_"
                          "CUSTOM&spec.fromDate=",
                          range.first, "&spec.toDate=", range.second),
             rep)
            .body);
    reported = report.contains("totals") && report["totals"]["cells"].size() > 2 &&
               report["totals"]["cells"][2] == "2";
    if (!reported) absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(reported);
  // Renewal follow-up: exactly one task made from the renewal event.
  int follow_ups = 0;
  for (int i = 0; i < 150 && follow_ups == 0; ++i) {
    const json all = json::parse(call("GET", "/v1/tasks?pageSize=200", rep).body);
    follow_ups = 0;
    for (const auto& t : all.value("tasks", json::array())) follow_ups += t.contains("origin");
    if (follow_ups == 0) absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(follow_ups, 1);
  (void)tasks;
}

}  // namespace
}  // namespace crm
