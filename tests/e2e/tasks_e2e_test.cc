// End to end: real tasks binaries (two replicas at once, and replicas that stop and start) on a
// real PostgreSQL fire every reminder exactly once; with the real contacts and pipeline binaries,
// a won subscription's renewal becomes one follow-up task that names its contact.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/wait.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm {
namespace {

using testing::WaitUntil;

using google::protobuf::util::TimeUtil;
using testing::AuthedContext;
using testing::MintToken;
using testing::ServiceProcess;

const std::string& kSecret = testing::kJwtSecretFlag;
const std::string& kServiceSecret = testing::kServiceSecretFlag;

std::unique_ptr<ServiceProcess> StartTasks(const testing::TestDatabase& database,
                                           std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--db_url=" + database.ConnInfo("tasks"),
                                   kSecret,
                                   kServiceSecret,
                                   "--contacts_address=",
                                   "--pipeline_address=",
                                   "--reminder_max_sleep_ms=200"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto process = ServiceProcess::Start(CRM_TASKS_BIN, args, absl::Seconds(30));
  EXPECT_TRUE(process.ok()) << process.status();
  return process.ok() ? std::move(*process) : nullptr;
}

// Every notification of the users, by task name.
std::multimap<std::string, tasks::v1::Notification> Notifications(
    tasks::v1::TasksService::Stub& stub, const std::vector<std::string>& tokens) {
  std::multimap<std::string, tasks::v1::Notification> out;
  for (const std::string& token : tokens) {
    tasks::v1::ListNotificationsRequest request;
    request.set_page_size(1000);
    do {
      tasks::v1::ListNotificationsResponse response;
      grpc::Status status = stub.ListNotifications(AuthedContext(token).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& n : response.notifications()) out.emplace(n.task(), n);
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
  }
  return out;
}

// A counter's value summed over its label sets on a /metrics page.
double CounterSum(const std::string& page, const std::string& name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::StartsWith(line, name + "{") && !absl::StartsWith(line, name + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

tasks::v1::Task TaskWithReminder(const std::string& title, absl::Time at) {
  tasks::v1::Task task;
  task.set_title(title);
  *task.mutable_reminder_time() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(at));
  return task;
}

TEST(TasksE2eTest, TwoReplicasFireFiveHundredRemindersDueInTheSameSecondOnce) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto replica_a = StartTasks(*database);
  auto replica_b = StartTasks(*database);
  ASSERT_TRUE(replica_a && replica_b);
  auto stub_a = tasks::v1::TasksService::NewStub(testing::LocalChannel(replica_a->grpc_port()));
  auto stub_b = tasks::v1::TasksService::NewStub(testing::LocalChannel(replica_b->grpc_port()));
  std::vector<std::string> tokens;
  for (int u = 0; u < 5; ++u) tokens.push_back(MintToken("acme", absl::StrCat("rep", u), {"rep"}));

  // All due in one whole second, a few seconds ahead; written through both replicas.
  const absl::Time due = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()) + 10);
  constexpr int kReminders = 500;
  for (int i = 0; i < kReminders; ++i) {
    tasks::v1::CreateTaskRequest request;
    *request.mutable_task() = TaskWithReminder(absl::StrCat("call ", i), due);
    tasks::v1::Task created;
    auto& stub = i % 2 == 0 ? stub_a : stub_b;
    ASSERT_TRUE(stub->CreateTask(AuthedContext(tokens[i % 5]).get(), request, &created).ok());
  }
  ASSERT_LT(absl::Now(), due) << "creating the tasks took too long for the test to mean much";
  ASSERT_TRUE(WaitUntil([&] { return Notifications(*stub_a, tokens).size() >= kReminders; },
                        absl::Seconds(60)));
  // Both schedulers keep running a while longer; nothing fires twice.
  absl::SleepFor(absl::Seconds(1));
  const auto fired = Notifications(*stub_b, tokens);
  EXPECT_EQ(fired.size(), static_cast<size_t>(kReminders));
  std::set<std::string> tasks_fired;
  for (const auto& [task, n] : fired) tasks_fired.insert(task);
  EXPECT_EQ(tasks_fired.size(), static_cast<size_t>(kReminders));
  // The replicas' own counts agree: together they fired each reminder once.
  double total = 0;
  for (auto* replica : {replica_a.get(), replica_b.get()}) {
    auto metrics = testing::HttpGet(replica->metrics_port(), "/metrics");
    ASSERT_TRUE(metrics.ok());
    total += CounterSum(*metrics, "crm_reminders_fired_total");
    EXPECT_NE(metrics->find("crm_reminder_delay_seconds_bucket"), std::string::npos);
  }
  EXPECT_EQ(total, kReminders);
}

TEST(TasksE2eTest, RemindersThatPassedWhileEveryReplicaWasDownFireOnceOnStartAndSaySoLate) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  const std::string token = MintToken("acme", "alice", {"rep"});
  auto first = StartTasks(*database);
  ASSERT_TRUE(first);
  auto stub = tasks::v1::TasksService::NewStub(testing::LocalChannel(first->grpc_port()));
  const absl::Time due = absl::Now() + absl::Seconds(5);
  constexpr int kReminders = 50;
  for (int i = 0; i < kReminders; ++i) {
    tasks::v1::CreateTaskRequest request;
    *request.mutable_task() = TaskWithReminder(absl::StrCat("late ", i), due);
    tasks::v1::Task created;
    ASSERT_TRUE(stub->CreateTask(AuthedContext(token).get(), request, &created).ok());
  }
  // A crash, not a drain: nothing of the replica runs on once the signal is sent.
  auto stopped = first->StopWith(SIGKILL, absl::Seconds(20));
  ASSERT_TRUE(stopped.ok());
  ASSERT_LT(absl::Now(), due) << "the replica stopped after the reminders came due";
  // Every replica is down while the reminders come due, and for a while after.
  while (absl::Now() < due + absl::Seconds(2)) absl::SleepFor(absl::Milliseconds(100));

  auto second = StartTasks(*database, {"--reminder_late_after_seconds=1"});
  ASSERT_TRUE(second);
  stub = tasks::v1::TasksService::NewStub(testing::LocalChannel(second->grpc_port()));
  ASSERT_TRUE(WaitUntil([&] { return Notifications(*stub, {token}).size() >= kReminders; },
                        absl::Seconds(30)));
  // A second start finds nothing more to fire.
  ASSERT_TRUE(second->StopWith(SIGTERM, absl::Seconds(20)).ok());
  auto third = StartTasks(*database, {"--reminder_late_after_seconds=1"});
  ASSERT_TRUE(third);
  stub = tasks::v1::TasksService::NewStub(testing::LocalChannel(third->grpc_port()));
  absl::SleepFor(absl::Seconds(1));
  const auto fired = Notifications(*stub, {token});
  EXPECT_EQ(fired.size(), static_cast<size_t>(kReminders));
  std::set<std::string> distinct;
  for (const auto& [task, n] : fired) {
    distinct.insert(task);
    EXPECT_TRUE(n.late()) << task;
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kReminders));
}

TEST(TasksE2eTest, AWonSubscriptionsRenewalBecomesOneFollowUpTaskNamingItsContact) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto contacts_process = ServiceProcess::Start(
      CRM_CONTACTS_BIN, {"--db_url=" + database->ConnInfo("contacts"), kSecret, kServiceSecret},
      absl::Seconds(30));
  ASSERT_TRUE(contacts_process.ok()) << contacts_process.status();
  const std::string contacts_address = absl::StrCat("127.0.0.1:", (*contacts_process)->grpc_port());
  auto pipeline_process =
      ServiceProcess::Start(CRM_PIPELINE_BIN,
                            {"--db_url=" + database->ConnInfo("pipeline"), kSecret, kServiceSecret,
                             "--contacts_address=" + contacts_address,
                             "--renewal_interval_seconds=1", "--default_renewal_lead_days=400"},
                            absl::Seconds(30));
  ASSERT_TRUE(pipeline_process.ok()) << pipeline_process.status();
  auto tasks_process = ServiceProcess::Start(
      CRM_TASKS_BIN,
      {"--db_url=" + database->ConnInfo("tasks"), kSecret, kServiceSecret,
       "--contacts_address=" + contacts_address,
       absl::StrCat("--pipeline_address=127.0.0.1:", (*pipeline_process)->grpc_port())},
      absl::Seconds(30));
  ASSERT_TRUE(tasks_process.ok()) << tasks_process.status();

  auto contacts = contacts::v1::ContactsService::NewStub(
      testing::LocalChannel((*contacts_process)->grpc_port()));
  auto pipeline = pipeline::v1::PipelineService::NewStub(
      testing::LocalChannel((*pipeline_process)->grpc_port()));
  auto tasks =
      tasks::v1::TasksService::NewStub(testing::LocalChannel((*tasks_process)->grpc_port()));
  const std::string rep = MintToken("acme", "alice", {"rep"});
  const std::string admin = MintToken("acme", "root", {"admin"});

  contacts::v1::CreateContactRequest new_contact;
  new_contact.mutable_contact()->set_given_name("Anna");
  new_contact.mutable_contact()->set_family_name("Petrosyan");
  new_contact.mutable_contact()->add_emails("anna@acme.example");
  contacts::v1::Contact anna;
  ASSERT_TRUE(contacts->CreateContact(AuthedContext(rep).get(), new_contact, &anna).ok());

  pipeline::v1::CreateProductRequest new_product;
  new_product.mutable_product()->set_sku("SUB-1");
  new_product.mutable_product()->set_display_name("Monthly plan");
  new_product.mutable_product()->mutable_list_price()->set_amount_minor(5000);
  new_product.mutable_product()->mutable_list_price()->set_currency_code("USD");
  new_product.mutable_product()->set_billing(pipeline::v1::BILLING_TYPE_SUBSCRIPTION);
  new_product.mutable_product()->set_term_months(1);
  pipeline::v1::Product plan;
  ASSERT_TRUE(pipeline->CreateProduct(AuthedContext(admin).get(), new_product, &plan).ok());
  pipeline::v1::CreateDealRequest new_deal;
  new_deal.mutable_deal()->set_display_name("Acme plan");
  new_deal.mutable_deal()->set_contact(anna.name());
  pipeline::v1::Deal deal;
  grpc::Status status = pipeline->CreateDeal(AuthedContext(rep).get(), new_deal, &deal);
  ASSERT_TRUE(status.ok()) << status.error_message();
  pipeline::v1::SetLineItemsRequest items;
  items.set_name(deal.name());
  items.add_line_items()->set_product(plan.name());
  items.mutable_line_items(0)->set_quantity(1);
  ASSERT_TRUE(pipeline->SetLineItems(AuthedContext(rep).get(), items, &deal).ok());
  pipeline::v1::GetPipelineRequest get_pipeline;
  get_pipeline.set_name(deal.pipeline());
  pipeline::v1::Pipeline stages;
  ASSERT_TRUE(pipeline->GetPipeline(AuthedContext(rep).get(), get_pipeline, &stages).ok());
  pipeline::v1::MoveDealRequest win;
  win.set_name(deal.name());
  win.set_etag(deal.etag());
  for (const auto& stage : stages.stages()) {
    if (stage.kind() == pipeline::v1::STAGE_KIND_WON) win.set_stage(stage.id());
  }
  status = pipeline->MoveDeal(AuthedContext(rep).get(), win, &deal);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // The renewal job makes the renewal deal; its event becomes alice's follow-up task.
  tasks::v1::ListTasksRequest list;
  list.set_filter("assignee = me");
  tasks::v1::ListTasksResponse found;
  ASSERT_TRUE(WaitUntil(
      [&] {
        found.Clear();
        return tasks->ListTasks(AuthedContext(rep).get(), list, &found).ok() &&
               found.tasks_size() > 0 && !found.tasks(0).contact_display_name().empty();
      },
      absl::Seconds(60)));
  ASSERT_EQ(found.tasks_size(), 1);
  const tasks::v1::Task& follow_up = found.tasks(0);
  EXPECT_EQ(follow_up.contact(), anna.name());
  EXPECT_EQ(follow_up.contact_display_name(), "Anna Petrosyan");
  EXPECT_EQ(follow_up.priority(), tasks::v1::TASK_PRIORITY_HIGH);
  pipeline::v1::ListDealsRequest renewals;
  renewals.set_filter("lead_source = \"renewal\"");
  pipeline::v1::ListDealsResponse renewal_deals;
  ASSERT_TRUE(pipeline->ListDeals(AuthedContext(rep).get(), renewals, &renewal_deals).ok());
  ASSERT_EQ(renewal_deals.deals_size(), 1);
  EXPECT_EQ(follow_up.deal(), renewal_deals.deals(0).name());
  // More renewal passes and consumer polls change nothing.
  absl::SleepFor(absl::Seconds(2));
  found.Clear();
  ASSERT_TRUE(tasks->ListTasks(AuthedContext(rep).get(), list, &found).ok());
  EXPECT_EQ(found.tasks_size(), 1);

  for (auto* process : {tasks_process->get(), pipeline_process->get(), contacts_process->get()}) {
    auto exit_status = process->StopWith(SIGTERM, absl::Seconds(20));
    ASSERT_TRUE(exit_status.ok()) << exit_status.status();
    EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0);
  }
}

}  // namespace
}  // namespace crm
