// The tasks service in-process against a real PostgreSQL, with its real scheduler, webhook
// dispatcher (POSTing to a loopback receiver) and event handlers: tasks and their rules,
// reminders firing once, cancelled and re-armed, the live watch, signed webhooks with retries,
// follow-up tasks from renewals, contact names, and tenant isolation.
#include <gmock/gmock.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/errors.h"
#include "common/db/sql_helpers.h"
#include "common/ids/uuid.h"
#include "common/server/server.h"
#include "common/testing/calendar.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/http_receiver.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_runtime.h"
#include "common/testing/wait.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "crm/tasks/v1/tasks_events.pb.h"
#include "google/protobuf/any.pb.h"
#include "services/tasks/event_followers.h"
#include "services/tasks/reminder_scheduler.h"
#include "services/tasks/tasks_wiring.h"
#include "services/tasks/webhook_dispatcher.h"
#include "services/tasks/webhook_signature.h"

extern const std::vector<crm::EmbeddedFile>& TasksMigrations();

namespace crm::tasks {
namespace {

using crm::testing::AuthedContext;
using crm::testing::MintToken;
using crm::testing::WaitUntil;
using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp At(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

class TasksServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto database = crm::testing::TestDatabase::Create();
    ASSERT_OK(database.status());
    database_ = new crm::testing::TestDatabase(std::move(*database));
    TasksWiring wiring;  // follows no other service: the tests hand events to the store
    wiring.webhooks.initial_backoff = absl::Milliseconds(100);
    wiring.webhooks.timeout = absl::Seconds(2);
    wiring.webhooks.allow_private_addresses = true;  // the receivers are on loopback
    wiring.scheduler.max_sleep = absl::Milliseconds(200);
    server::RuntimeOptions options =
        crm::testing::TestRuntimeOptions(*database_, "tasks", TasksMigrations());
    options.workers = 8;
    runtime_ = crm::testing::StartService(std::move(options), WireTasks(wiring)).release();
    ASSERT_NE(runtime_, nullptr);
    TasksParts& parts = runtime_->parts<TasksParts>();
    ASSERT_TRUE(WaitUntil([&] { return parts.hub.live(); }, absl::Seconds(10)));
    pool_ = &runtime_->pool();
    server_ = &runtime_->server();
    store_ = &parts.store;
    scheduler_ = &parts.scheduler;
    stub_ = v1::TasksService::NewStub(crm::testing::LocalChannel(runtime_->grpc_port())).release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete runtime_;
    delete database_;
  }
  void SetUp() override {
    tenant_ = "t" + ids::NewUuidV7().substr(24);
    alice_ = MintToken(tenant_, "alice", {"rep"});
    bob_ = MintToken(tenant_, "bob", {"rep"});
    manager_ = MintToken(tenant_, "maria", {"manager"});
    admin_ = MintToken(tenant_, "root", {"admin"});
  }

  grpc::Status Create(const std::string& token, const v1::Task& task, v1::Task* out,
                      const std::string& request_id = "") {
    v1::CreateTaskRequest request;
    *request.mutable_task() = task;
    request.set_request_id(request_id);
    return stub_->CreateTask(AuthedContext(token).get(), request, out);
  }

  v1::Task MustCreate(const std::string& token, const std::string& title,
                      std::optional<absl::Time> reminder = std::nullopt) {
    v1::Task task;
    task.set_title(title);
    if (reminder.has_value()) {
      *task.mutable_reminder_time() = At(*reminder);
      *task.mutable_due_time() = At(*reminder + absl::Hours(1));
    }
    v1::Task created;
    grpc::Status status = Create(token, task, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status Update(const std::string& token, const v1::Task& patch,
                      const std::vector<std::string>& paths, v1::Task* out) {
    v1::UpdateTaskRequest request;
    *request.mutable_task() = patch;
    for (const auto& p : paths) request.mutable_update_mask()->add_paths(p);
    return stub_->UpdateTask(AuthedContext(token).get(), request, out);
  }

  std::vector<v1::Task> List(const std::string& token, const std::string& filter,
                             const std::string& time_zone = "") {
    v1::ListTasksRequest request;
    request.set_filter(filter);
    request.set_time_zone(time_zone);
    request.set_page_size(1000);
    v1::ListTasksResponse response;
    grpc::Status status = stub_->ListTasks(AuthedContext(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.tasks().begin(), response.tasks().end()};
  }

  std::vector<v1::Notification> Inbox(const std::string& token) {
    v1::ListNotificationsRequest request;
    request.set_page_size(1000);
    v1::ListNotificationsResponse response;
    EXPECT_TRUE(stub_->ListNotifications(AuthedContext(token).get(), request, &response).ok());
    return {response.notifications().begin(), response.notifications().end()};
  }

  // Notifications of `token`'s user for `task`.
  int FiredFor(const std::string& token, const v1::Task& task) {
    int n = 0;
    for (const auto& notification : Inbox(token)) n += notification.task() == task.name();
    return n;
  }

  static crm::testing::TestDatabase* database_;
  static server::ServiceRuntime* runtime_;
  static db::Pool* pool_;
  static server::Server* server_;
  static TaskStore* store_;
  static ReminderScheduler* scheduler_;
  static v1::TasksService::Stub* stub_;
  std::string tenant_, alice_, bob_, manager_, admin_;
};

crm::testing::TestDatabase* TasksServiceTest::database_ = nullptr;
server::ServiceRuntime* TasksServiceTest::runtime_ = nullptr;
db::Pool* TasksServiceTest::pool_ = nullptr;
server::Server* TasksServiceTest::server_ = nullptr;
TaskStore* TasksServiceTest::store_ = nullptr;
ReminderScheduler* TasksServiceTest::scheduler_ = nullptr;
v1::TasksService::Stub* TasksServiceTest::stub_ = nullptr;

TEST_F(TasksServiceTest, CreateGetUpdateDeleteWithEtagsAndIdempotency) {
  v1::Task task;
  task.set_title("Call Anna");
  task.set_priority(v1::TASK_PRIORITY_URGENT);
  task.set_time_zone("Asia/Yerevan");
  v1::Task created;
  ASSERT_TRUE(Create(alice_, task, &created, "req-1").ok());
  EXPECT_EQ(created.assignee(), "alice");
  EXPECT_EQ(created.creator(), "alice");
  EXPECT_EQ(created.status(), v1::TASK_STATUS_OPEN);
  EXPECT_EQ(created.priority(), v1::TASK_PRIORITY_URGENT);
  EXPECT_EQ(created.time_zone(), "Asia/Yerevan");
  v1::Task retried;
  ASSERT_TRUE(Create(alice_, task, &retried, "req-1").ok());
  EXPECT_EQ(retried.name(), created.name());

  v1::GetTaskRequest get;
  get.set_name(created.name());
  v1::Task fetched;
  ASSERT_TRUE(stub_->GetTask(AuthedContext(bob_).get(), get, &fetched).ok());
  EXPECT_EQ(fetched.title(), "Call Anna");

  v1::Task patch;
  patch.set_name(created.name());
  patch.set_etag(created.etag());
  patch.set_status(v1::TASK_STATUS_DONE);
  v1::Task done;
  ASSERT_TRUE(Update(alice_, patch, {"status"}, &done).ok());
  EXPECT_EQ(done.status(), v1::TASK_STATUS_DONE);
  EXPECT_TRUE(done.has_complete_time());
  EXPECT_NE(done.etag(), created.etag());
  // The same stale etag again: the task changed since.
  v1::Task stale;
  EXPECT_EQ(Update(alice_, patch, {"status"}, &stale).error_code(), grpc::StatusCode::ABORTED);
  // Bob neither owns nor created it.
  patch.clear_etag();
  EXPECT_EQ(Update(bob_, patch, {"status"}, &stale).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Reopening clears the completion time.
  patch.set_status(v1::TASK_STATUS_OPEN);
  v1::Task reopened;
  ASSERT_TRUE(Update(alice_, patch, {"status"}, &reopened).ok());
  EXPECT_FALSE(reopened.has_complete_time());

  v1::DeleteTaskRequest del;
  del.set_name(created.name());
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeleteTask(AuthedContext(bob_).get(), del, &empty).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->DeleteTask(AuthedContext(manager_).get(), del, &empty).ok());
  EXPECT_EQ(stub_->GetTask(AuthedContext(alice_).get(), get, &fetched).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(TasksServiceTest, BadInputIsRefusedNamingTheField) {
  // The field named in the google.rpc.BadRequest detail.
  auto field_of = [](const grpc::Status& status) -> std::string {
    google::rpc::BadRequest bad_request;
    if (!api::GetDetail(api::FromGrpcStatus(status), &bad_request) ||
        bad_request.field_violations_size() == 0) {
      return "";
    }
    return bad_request.field_violations(0).field();
  };
  v1::Task task;
  v1::Task out;
  grpc::Status status = Create(alice_, task, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(field_of(status), "task.title");
  task.set_title("x");
  task.set_deal("opportunities/1");
  status = Create(alice_, task, &out);
  EXPECT_EQ(field_of(status), "task.deal");
  task.clear_deal();
  *task.mutable_due_time() = At(absl::Now());
  *task.mutable_reminder_time() = At(absl::Now() + absl::Hours(1));
  status = Create(alice_, task, &out);
  EXPECT_EQ(field_of(status), "task.reminder_time");
  task.clear_reminder_time();
  task.set_assignee("bob");  // reps assign to themselves only
  EXPECT_EQ(Create(alice_, task, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Create(manager_, task, &out).ok());
  v1::ListTasksRequest list;
  list.set_filter("colour = red");
  v1::ListTasksResponse response;
  EXPECT_EQ(stub_->ListTasks(AuthedContext(alice_).get(), list, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.set_filter("due_today = true");
  list.set_time_zone("Not/AZone");
  EXPECT_EQ(stub_->ListTasks(AuthedContext(alice_).get(), list, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(stub_->ListTasks(AuthedContext("not-a-token").get(), list, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TasksServiceTest, FiltersFindMyOpenOverdueAndDueTodayTasks) {
  // "Today" is asked about in three zones below; no midnight passes in any of them meanwhile.
  crm::testing::WaitForRoomBeforeMidnight(absl::Seconds(30),
                                          {"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"});
  const absl::Time now = absl::Now();
  const std::string deal = "deals/" + ids::NewUuidV7();
  v1::Task overdue;
  overdue.set_title("overdue");
  *overdue.mutable_due_time() = At(now - absl::Hours(2));
  overdue.set_deal(deal);
  v1::Task later;
  later.set_title("later");
  *later.mutable_due_time() = At(now + absl::Hours(24 * 3));
  v1::Task done;
  done.set_title("done");
  done.set_status(v1::TASK_STATUS_DONE);
  *done.mutable_due_time() = At(now - absl::Hours(2));
  v1::Task out;
  for (const v1::Task& t : {overdue, later, done}) ASSERT_TRUE(Create(alice_, t, &out).ok());
  MustCreate(bob_, "bob's");

  auto titles = [](const std::vector<v1::Task>& tasks) {
    std::vector<std::string> out;
    for (const auto& t : tasks) out.push_back(t.title());
    return out;
  };
  using ::testing::UnorderedElementsAre;
  EXPECT_THAT(titles(List(alice_, "assignee = \"me\" AND status = OPEN")),
              UnorderedElementsAre("overdue", "later"));
  EXPECT_THAT(titles(List(bob_, "assignee = me")), UnorderedElementsAre("bob's"));
  EXPECT_THAT(titles(List(alice_, "overdue = true")), UnorderedElementsAre("overdue"));
  EXPECT_THAT(titles(List(alice_, "deal = \"" + deal + "\"")), UnorderedElementsAre("overdue"));
  // "Today" two hours ago is today in UTC unless the day just began; 14 hours east it is at
  // least as likely to be yesterday. Compare with the day as PostgreSQL and absl count it.
  for (const std::string zone : {"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"}) {
    absl::TimeZone tz;
    ASSERT_TRUE(absl::LoadTimeZone(zone, &tz));
    const bool same_day = absl::ToCivilDay(now - absl::Hours(2), tz) == absl::ToCivilDay(now, tz);
    std::vector<std::string> expected;
    if (same_day) expected = {"overdue", "done"};
    EXPECT_THAT(titles(List(alice_, "due_today = true AND assignee = me", zone)),
                ::testing::UnorderedElementsAreArray(expected))
        << zone;
  }
  // Ordering by due time, soonest first, tasks without one last.
  std::vector<v1::Task> ordered;
  {
    v1::ListTasksRequest request;
    request.set_filter("assignee = me");
    request.set_order_by("due_time desc");
    v1::ListTasksResponse response;
    ASSERT_TRUE(stub_->ListTasks(AuthedContext(alice_).get(), request, &response).ok());
    ASSERT_EQ(response.tasks_size(), 3);
    EXPECT_EQ(response.tasks(0).title(), "later");
  }
}

TEST_F(TasksServiceTest, ReminderDueInTwoSecondsFiresOnce) {
  const v1::Task task = MustCreate(alice_, "Call Anna", absl::Now() + absl::Seconds(2));
  ASSERT_TRUE(WaitUntil([&] { return FiredFor(alice_, task) >= 1; }, absl::Seconds(15)));
  // Give any duplicate every chance: the scheduler passes again, and a direct pass finds nothing.
  absl::StatusOr<int> again = scheduler_->FireDue();
  ASSERT_OK(again.status());
  EXPECT_EQ(FiredFor(alice_, task), 1);
  const v1::Notification fired = Inbox(alice_).front();
  EXPECT_EQ(fired.recipient(), "alice");
  EXPECT_EQ(fired.title(), "Reminder: Call Anna");
  EXPECT_FALSE(fired.late());
  v1::GetTaskRequest get;
  get.set_name(task.name());
  v1::Task after;
  ASSERT_TRUE(stub_->GetTask(AuthedContext(alice_).get(), get, &after).ok());
  EXPECT_TRUE(after.has_reminder_fire_time());
  EXPECT_EQ(after.etag(), task.etag());  // firing does not invalidate the client's etag
  uint64_t observed = 0;
  for (const auto& family : server_->registry().Collect()) {
    if (family.name == "crm_reminder_delay_seconds") {
      observed = family.metric.at(0).histogram.sample_count;
    }
  }
  EXPECT_GE(observed, 1u);
}

TEST_F(TasksServiceTest, CompletingATaskCancelsItsPendingReminder) {
  const absl::Time at = absl::Now() + absl::Seconds(1);
  const v1::Task task = MustCreate(alice_, "Send proposal", at);
  v1::Task patch;
  patch.set_name(task.name());
  patch.set_status(v1::TASK_STATUS_DONE);
  v1::Task done;
  ASSERT_TRUE(Update(alice_, patch, {"status"}, &done).ok());
  // Once the time has passed, a scheduler pass has nothing to fire for it.
  while (absl::Now() < at + absl::Milliseconds(100)) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_OK(scheduler_->FireDue().status());
  EXPECT_EQ(FiredFor(alice_, task), 0);
}

TEST_F(TasksServiceTest, MovingTheReminderReArmsIt) {
  const v1::Task task = MustCreate(alice_, "Follow up", absl::Now() + absl::Milliseconds(300));
  ASSERT_TRUE(WaitUntil([&] { return FiredFor(alice_, task) == 1; }, absl::Seconds(15)));
  v1::Task patch;
  patch.set_name(task.name());
  *patch.mutable_reminder_time() = At(absl::Now() + absl::Milliseconds(300));
  v1::Task moved;
  ASSERT_TRUE(Update(alice_, patch, {"reminder_time"}, &moved).ok());
  EXPECT_FALSE(moved.has_reminder_fire_time());
  ASSERT_TRUE(WaitUntil([&] { return FiredFor(alice_, task) == 2; }, absl::Seconds(15)));
  ASSERT_OK(scheduler_->FireDue().status());
  EXPECT_EQ(FiredFor(alice_, task), 2);
}

TEST_F(TasksServiceTest, WatchGetsNotificationsLiveAndNeverAnotherUsers) {
  auto alice_context = AuthedContext(alice_);
  alice_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto alice_stream = stub_->WatchNotifications(alice_context.get(), {});
  auto bob_context = AuthedContext(bob_);
  bob_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto bob_stream = stub_->WatchNotifications(bob_context.get(), {});
  // Headers arrive once each watch is live.
  alice_stream->WaitForInitialMetadata();
  bob_stream->WaitForInitialMetadata();

  const v1::Task alices = MustCreate(alice_, "Alice's call", absl::Now() + absl::Milliseconds(200));
  v1::Notification received;
  ASSERT_TRUE(alice_stream->Read(&received));
  EXPECT_EQ(received.task(), alices.name());
  EXPECT_EQ(received.recipient(), "alice");
  // Bob's first notification is his own, not Alice's.
  const v1::Task bobs = MustCreate(bob_, "Bob's call", absl::Now() + absl::Milliseconds(200));
  ASSERT_TRUE(bob_stream->Read(&received));
  EXPECT_EQ(received.task(), bobs.name());
  EXPECT_EQ(received.recipient(), "bob");
  alice_context->TryCancel();
  bob_context->TryCancel();
}

TEST_F(TasksServiceTest, WebhooksGetSignedPostsAndRetriesRecordOneSuccess) {
  auto receiver = crm::testing::HttpReceiver::Start({500, 503});  // fails twice, then succeeds
  ASSERT_NE(receiver, nullptr);
  v1::CreateWebhookRequest create;
  create.mutable_webhook()->set_url(receiver->url("/crm"));
  v1::Webhook webhook;
  EXPECT_EQ(stub_->CreateWebhook(AuthedContext(alice_).get(), create, &webhook).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub_->CreateWebhook(AuthedContext(admin_).get(), create, &webhook).ok());
  ASSERT_FALSE(webhook.secret().empty());
  v1::CreateWebhookRequest bad;
  bad.mutable_webhook()->set_url("ftp://example.com/x");
  v1::Webhook refused;
  EXPECT_EQ(stub_->CreateWebhook(AuthedContext(admin_).get(), bad, &refused).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const v1::Task task = MustCreate(alice_, "Webhook me", absl::Now() + absl::Milliseconds(200));
  const std::vector<crm::testing::ReceivedRequest> requests =
      receiver->WaitFor(3, absl::Seconds(20));
  ASSERT_EQ(requests.size(), 3u);
  for (const auto& request : requests) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/crm");
    EXPECT_EQ(request.headers.at("content-type"), "application/json");
    // t=<seconds>,v1=<hex>: recompute it with the secret the receiver was given.
    const std::string& signature = request.headers.at("x-crm-signature");
    std::vector<std::string> parts = absl::StrSplit(signature, ',');
    ASSERT_EQ(parts.size(), 2u);
    int64_t t = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[0].substr(2), &t));
    EXPECT_EQ(signature, WebhookSignature(webhook.secret(), t, request.body));
    const auto body = nlohmann::json::parse(request.body);
    EXPECT_EQ(body["type"], "notification.created");
    EXPECT_EQ(body["tenant"], tenant_);
    EXPECT_EQ(body["notification"]["task"], task.name());
    EXPECT_EQ(request.headers.at("x-crm-delivery"), requests[0].headers.at("x-crm-delivery"));
  }
  v1::ListWebhookDeliveriesRequest list;
  list.set_parent(webhook.name());
  v1::ListWebhookDeliveriesResponse deliveries;
  ASSERT_TRUE(WaitUntil(
      [&] {
        deliveries.Clear();
        return stub_->ListWebhookDeliveries(AuthedContext(admin_).get(), list, &deliveries).ok() &&
               deliveries.deliveries_size() == 1 &&
               deliveries.deliveries(0).state() == v1::DELIVERY_STATE_SUCCEEDED;
      },
      absl::Seconds(10)));
  const v1::WebhookDelivery& delivery = deliveries.deliveries(0);
  ASSERT_EQ(delivery.attempts_size(), 3);
  int successes = 0;
  for (const auto& attempt : delivery.attempts()) successes += attempt.error().empty();
  EXPECT_EQ(successes, 1);
  EXPECT_EQ(delivery.attempts(0).http_status(), 500);
  EXPECT_EQ(delivery.attempts(2).http_status(), 200);
  // Nothing more is sent once it succeeded.
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(receiver->requests().size(), 3u);
}

TEST_F(TasksServiceTest, AFailingEndpointDoesNotHoldUpAnother) {
  auto failing = crm::testing::HttpReceiver::Start(std::vector<int>(50, 500));
  auto healthy = crm::testing::HttpReceiver::Start();
  for (auto* receiver : {failing.get(), healthy.get()}) {
    v1::CreateWebhookRequest create;
    create.mutable_webhook()->set_url(receiver->url());
    v1::Webhook webhook;
    ASSERT_TRUE(stub_->CreateWebhook(AuthedContext(admin_).get(), create, &webhook).ok());
  }
  MustCreate(alice_, "one", absl::Now() + absl::Milliseconds(100));
  MustCreate(alice_, "two", absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(healthy->WaitFor(2, absl::Seconds(10)).size(), 2u);
  EXPECT_GE(failing->WaitFor(2, absl::Seconds(10)).size(), 2u);
}

TEST_F(TasksServiceTest, ASlowEndpointHoldsOneSlotAndADeletedWebhookGetsNothingMore) {
  // A slow receiver with several deliveries queued gets them one at a time.
  auto slow = crm::testing::HttpReceiver::Start(std::vector<int>(20, 500), absl::Milliseconds(300));
  v1::CreateWebhookRequest create;
  create.mutable_webhook()->set_url(slow->url());
  v1::Webhook webhook;
  ASSERT_TRUE(stub_->CreateWebhook(AuthedContext(admin_).get(), create, &webhook).ok());
  for (int i = 0; i < 4; ++i) MustCreate(alice_, "slow", absl::Now() + absl::Milliseconds(50));
  ASSERT_GE(slow->WaitFor(4, absl::Seconds(20)).size(), 4u);
  EXPECT_EQ(slow->max_concurrent(), 1);
  // Deleted: its pending deliveries are given up and nothing more is sent.
  v1::DeleteWebhookRequest remove;
  remove.set_name(webhook.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteWebhook(AuthedContext(admin_).get(), remove, &empty).ok());
  MustCreate(alice_, "after delete", absl::Now() + absl::Milliseconds(50));
  absl::SleepFor(absl::Milliseconds(300));  // an attempt in flight at the delete may still land
  const size_t after_delete = slow->requests().size();
  absl::SleepFor(absl::Seconds(2));  // several backoff rounds
  EXPECT_EQ(slow->requests().size(), after_delete);
}

TEST_F(TasksServiceTest, WebhooksPerTenantAreCapped) {
  v1::CreateWebhookRequest create;
  create.mutable_webhook()->set_url("https://hooks.example.com/crm");
  v1::Webhook webhook;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(stub_->CreateWebhook(AuthedContext(admin_).get(), create, &webhook).ok());
  }
  EXPECT_EQ(stub_->CreateWebhook(AuthedContext(admin_).get(), create, &webhook).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Not a real host: delete them all before a reminder tries to reach it.
  v1::ListWebhooksResponse all;
  ASSERT_TRUE(stub_->ListWebhooks(AuthedContext(admin_).get(), {}, &all).ok());
  for (const auto& w : all.webhooks()) {
    v1::DeleteWebhookRequest remove;
    remove.set_name(w.name());
    google::protobuf::Empty empty;
    ASSERT_TRUE(stub_->DeleteWebhook(AuthedContext(admin_).get(), remove, &empty).ok());
  }
}

TEST_F(TasksServiceTest, RequestIdsArePerCreator) {
  v1::Task task;
  task.set_title("same key");
  v1::Task alices, bobs;
  ASSERT_TRUE(Create(alice_, task, &alices, "1").ok());
  ASSERT_TRUE(Create(bob_, task, &bobs, "1").ok());
  EXPECT_NE(alices.name(), bobs.name());
  EXPECT_EQ(bobs.assignee(), "bob");
}

TEST_F(TasksServiceTest, RowLevelSecurityHidesOtherTenantsEvenWithoutAFilter) {
  MustCreate(alice_, "mine");
  MustCreate(MintToken("rls-other-" + tenant_, "zed", {"rep"}), "theirs");
  auto tx = db::Transaction::Begin(*pool_, tenant_, absl::Now() + absl::Seconds(10));
  ASSERT_OK(tx.status());
  // No tenant predicate: only the policy stands between this tenant and the others.
  auto tenants = tx->Exec("SELECT DISTINCT tenant_id FROM tasks.tasks");
  ASSERT_OK(tenants.status());
  ASSERT_EQ(tenants->rows(), 1);
  EXPECT_EQ(tenants->String(0, 0), tenant_);
  ASSERT_OK(tx->Commit());
}

TEST_F(TasksServiceTest, RenewalEventCreatesOneFollowUpTask) {
  pipeline::v1::RenewalCreated renewal;
  renewal.mutable_purchase()->set_name("purchases/" + ids::NewUuidV7());
  renewal.mutable_purchase()->set_contract_number("C-2026-000042");
  renewal.mutable_purchase()->set_end_date("2099-01-31");
  renewal.mutable_purchase()->set_owner("alice");
  renewal.mutable_renewal_deal()->set_name("deals/" + ids::NewUuidV7());
  renewal.mutable_renewal_deal()->set_display_name("Renewal of contract C-2026-000042");
  renewal.mutable_renewal_deal()->set_owner("alice");
  common::v1::Event event;
  event.set_tenant(tenant_);
  event.set_event_type("crm.pipeline.v1.RenewalCreated");
  event.mutable_payload()->PackFrom(renewal);
  events::EventHandler handler = PipelineEvents(*store_).handler();
  for (int delivery = 0; delivery < 2; ++delivery) {  // the same event delivered twice
    auto tx = db::Transaction::Begin(*pool_, tenant_, absl::Now() + absl::Seconds(10));
    ASSERT_OK(tx.status());
    ASSERT_OK(handler(*tx, event));
    ASSERT_OK(tx->Commit());
  }
  const std::vector<v1::Task> tasks =
      List(alice_, "deal = \"" + renewal.renewal_deal().name() + "\"");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].assignee(), "alice");
  EXPECT_EQ(tasks[0].priority(), v1::TASK_PRIORITY_HIGH);
  EXPECT_THAT(tasks[0].origin(), ::testing::HasSubstr("C-2026-000042"));
  EXPECT_TRUE(tasks[0].has_reminder_time());
}

TEST_F(TasksServiceTest, TasksShowContactAndCompanyNamesFromContactsEvents) {
  const std::string company = "companies/" + ids::NewUuidV7();
  const std::string anna = "contacts/" + ids::NewUuidV7();
  const std::string duplicate = "contacts/" + ids::NewUuidV7();
  auto apply = [&](const google::protobuf::Message& payload) {
    common::v1::Event event;
    event.set_tenant(tenant_);
    event.set_event_type(std::string(payload.GetDescriptor()->full_name()));
    event.mutable_payload()->PackFrom(payload);
    auto tx = db::Transaction::Begin(*pool_, tenant_, absl::Now() + absl::Seconds(10));
    ASSERT_OK(tx.status());
    ASSERT_OK(ContactsEvents(*store_).handler()(*tx, event));
    ASSERT_OK(tx->Commit());
  };
  contacts::v1::CompanyCreated acme;
  acme.mutable_company()->set_name(company);
  acme.mutable_company()->set_display_name("Acme");
  apply(acme);
  contacts::v1::ContactCreated created;
  created.mutable_contact()->set_name(anna);
  created.mutable_contact()->set_given_name("Anna");
  created.mutable_contact()->set_family_name("Petrosyan");
  created.mutable_contact()->set_company(company);
  apply(created);

  v1::Task task;
  task.set_title("Call");
  task.set_contact(duplicate);
  v1::Task out;
  ASSERT_TRUE(Create(alice_, task, &out).ok());
  contacts::v1::ContactsMerged merged;
  merged.set_winner(anna);
  merged.set_loser(duplicate);
  *merged.mutable_contact() = created.contact();
  apply(merged);
  v1::GetTaskRequest get;
  get.set_name(out.name());
  ASSERT_TRUE(stub_->GetTask(AuthedContext(alice_).get(), get, &out).ok());
  EXPECT_EQ(out.contact(), anna);
  EXPECT_EQ(out.contact_display_name(), "Anna Petrosyan");
  EXPECT_EQ(out.company_display_name(), "Acme");
  contacts::v1::CompanyUpdated renamed;
  *renamed.mutable_company() = acme.company();
  renamed.mutable_company()->set_display_name("Acme Corp");
  apply(renamed);
  ASSERT_TRUE(stub_->GetTask(AuthedContext(alice_).get(), get, &out).ok());
  EXPECT_EQ(out.company_display_name(), "Acme Corp");
}

TEST_F(TasksServiceTest, TenantsSeeNoneOfEachOthersTasksOrNotifications) {
  const v1::Task task = MustCreate(alice_, "Tenant A", absl::Now() + absl::Milliseconds(100));
  ASSERT_TRUE(WaitUntil([&] { return FiredFor(alice_, task) == 1; }, absl::Seconds(15)));
  const std::string other = MintToken("other-" + tenant_, "alice", {"admin"});
  v1::GetTaskRequest get;
  get.set_name(task.name());
  v1::Task out;
  EXPECT_EQ(stub_->GetTask(AuthedContext(other).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(List(other, "").empty());
  EXPECT_TRUE(Inbox(other).empty());
  v1::MarkNotificationReadRequest mark;
  mark.set_name(Inbox(alice_).front().name());
  v1::Notification read;
  EXPECT_EQ(stub_->MarkNotificationRead(AuthedContext(other).get(), mark, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Nor another user of the same tenant.
  EXPECT_EQ(stub_->MarkNotificationRead(AuthedContext(bob_).get(), mark, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(stub_->MarkNotificationRead(AuthedContext(alice_).get(), mark, &read).ok());
  EXPECT_TRUE(read.has_read_time());
  v1::ListNotificationsRequest unread;
  unread.set_unread_only(true);
  v1::ListNotificationsResponse response;
  ASSERT_TRUE(stub_->ListNotifications(AuthedContext(alice_).get(), unread, &response).ok());
  EXPECT_EQ(response.notifications_size(), 0);
}

TEST_F(TasksServiceTest, TasksCarryTypedCustomFieldsOfTheirOwn) {
  auto define = [&](const std::string& key, common::v1::CustomFieldType type, bool unique) {
    common::v1::CreateCustomFieldRequest request;
    request.set_parent("objectTypes/task");
    request.mutable_custom_field()->set_key(key);
    request.mutable_custom_field()->set_label(key);
    request.mutable_custom_field()->set_type(type);
    request.mutable_custom_field()->set_unique(unique);
    common::v1::CustomFieldDefinition out;
    return stub_->CreateCustomField(AuthedContext(admin_).get(), request, &out);
  };
  ASSERT_TRUE(define("effort", common::v1::CUSTOM_FIELD_TYPE_NUMBER, false).ok());
  ASSERT_TRUE(define("ticket", common::v1::CUSTOM_FIELD_TYPE_TEXT, true).ok());
  common::v1::CreateCustomFieldRequest denied;
  denied.set_parent("objectTypes/task");
  denied.mutable_custom_field()->set_key("x");
  denied.mutable_custom_field()->set_label("x");
  denied.mutable_custom_field()->set_type(common::v1::CUSTOM_FIELD_TYPE_TEXT);
  common::v1::CustomFieldDefinition out_field;
  EXPECT_EQ(stub_->CreateCustomField(AuthedContext(alice_).get(), denied, &out_field).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::Task task;
  task.set_title("Typed");
  (*task.mutable_custom_fields())["effort"].set_number("3");
  (*task.mutable_custom_fields())["ticket"].set_text("OPS-1");
  v1::Task created;
  grpc::Status status = Create(alice_, task, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.custom_fields().at("ticket").text(), "OPS-1");

  v1::Task bad;
  bad.set_title("Bad");
  (*bad.mutable_custom_fields())["effort"].set_boolean(true);
  v1::Task out;
  status = Create(alice_, bad, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("task.custom_fields.effort"));
  v1::Task twin;
  twin.set_title("Twin");
  (*twin.mutable_custom_fields())["ticket"].set_text("OPS-1");
  status = Create(alice_, twin, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr(created.name()));

  // Only the masked field changes, and the change is announced like any other.
  v1::Task patch;
  patch.set_name(created.name());
  (*patch.mutable_custom_fields())["effort"].set_number("8");
  v1::Task updated;
  status = Update(alice_, patch, {"custom_fields.effort"}, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.custom_fields().at("effort").number(), "8");
  EXPECT_EQ(updated.custom_fields().at("ticket").text(), "OPS-1");
  EXPECT_NE(updated.etag(), created.etag());
  {
    // The event names the changed custom field and carries its value before.
    auto rows = db::RunOnce(*pool_, tenant_,
                            "SELECT encode(payload, 'hex') FROM tasks.outbox WHERE "
                            "aggregate_id = $1 AND event_type = 'crm.tasks.v1.TaskUpdated'",
                            {created.name()}, absl::Now() + absl::Seconds(10));
    ASSERT_TRUE(rows.ok()) << rows.status();
    ASSERT_EQ(rows->rows(), 1);
    google::protobuf::Any any;
    ASSERT_TRUE(any.ParseFromString(absl::HexStringToBytes(rows->Text(0, 0))));
    v1::TaskUpdated event;
    ASSERT_TRUE(any.UnpackTo(&event));
    EXPECT_THAT(event.changed_fields(), ::testing::ElementsAre("custom_fields.effort"));
    EXPECT_EQ(event.previous().custom_fields().at("effort").number(), "3");
    EXPECT_EQ(event.previous().custom_fields().count("ticket"), 0u);
    EXPECT_EQ(event.task().custom_fields().at("effort").number(), "8");
  }
  MustCreate(alice_, "Plain");
  const std::vector<v1::Task> big = List(alice_, "custom_fields.effort > 5");
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big[0].name(), created.name());
  const std::vector<v1::Task> by_ticket = List(alice_, "custom_fields.ticket = \"OPS-1\"");
  ASSERT_EQ(by_ticket.size(), 1u);  // answered from the unique claims, joined to t.id
  EXPECT_EQ(by_ticket[0].name(), created.name());
  v1::ListTasksRequest sorted;
  sorted.set_order_by("custom_fields.effort desc");
  v1::ListTasksResponse page;
  status = stub_->ListTasks(AuthedContext(alice_).get(), sorted, &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(page.tasks_size(), 2);
  EXPECT_EQ(page.tasks(0).name(), created.name());

  // Deleting the task frees its unique value.
  v1::DeleteTaskRequest remove;
  remove.set_name(created.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteTask(AuthedContext(alice_).get(), remove, &empty).ok());
  status = Create(alice_, twin, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace crm::tasks
