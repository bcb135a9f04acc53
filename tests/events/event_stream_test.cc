// The event stream against a real PostgreSQL over real gRPC: out-of-order commits are never
// skipped, concurrent writers are delivered exactly once in order, tenants see only their own
// events, and retention answers OUT_OF_RANGE instead of losing events silently.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "common/auth/authenticator.h"
#include "common/db/migrations.h"
#include "common/db/transaction.h"
#include "common/events/event_stream_service.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/events/outbox_maintenance.h"
#include "common/server/executor.h"
#include "common/server/server.h"
#include "common/server/wakeups.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/status_matchers.h"
#include "crm/common/v1/money.pb.h"

extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

namespace crm::events {
namespace {

using crm::common::v1::Event;
using crm::common::v1::Money;

// The test plays a producing service that owns the "pipeline" schema.
constexpr char kSchema[] = "pipeline";

// Collects a subscription's events on a background thread.
class Collector {
 public:
  Collector(crm::common::v1::EventStream::Stub& stub, const std::string& token, int64_t after) {
    context_.AddMetadata("authorization", "Bearer " + token);
    crm::common::v1::SubscribeRequest request;
    request.set_after_position(after);
    reader_ = stub.Subscribe(&context_, request);
    thread_ = std::thread([this] {
      Event event;
      while (reader_->Read(&event)) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(event);
      }
      status_ = reader_->Finish();
      done_ = true;
    });
  }
  ~Collector() {
    context_.TryCancel();
    thread_.join();
  }

  // Waits (bounded) until at least `n` events arrived or the stream ended.
  std::vector<Event> WaitFor(size_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline && !done_) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (events_.size() >= n) break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  bool done() const { return done_; }
  grpc::Status status() const { return status_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<Event>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Event> events_;
  std::atomic<bool> done_{false};
  grpc::Status status_;
};

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = crm::testing::TestDatabase::Create();
    ASSERT_OK(database);
    database_ = std::make_unique<crm::testing::TestDatabase>(*std::move(database));
    const std::string conninfo = database_->ConnInfo(kSchema);
    ASSERT_OK(db::Migrate(conninfo, kSchema, OutboxMigrations()));
    server::ServerOptions server_options;
    server_options.service_name = "events-test";
    server_ = std::make_unique<server::Server>(server_options);
    db::PoolOptions pool_options;
    pool_options.conninfo = conninfo;
    pool_options.size = 12;
    pool_ = std::make_unique<db::Pool>(pool_options, &server_->registry());
    executor_ = std::make_unique<server::Executor>(4);
    wakeups_ = std::make_unique<server::Wakeups>(*executor_);
    notifier_ = std::make_unique<Notifier>(conninfo, OutboxChannel(kSchema));
    notifier_->OnChange([this] { wakeups_->Signal(); });
    outbox_ = std::make_unique<Outbox>(kSchema, &server_->registry(), notifier_.get());
    auth::AuthOptions auth_options;
    auth_options.hs256_secret = crm::testing::kTestJwtSecret;
    auth_options.service_secret = crm::testing::kTestServiceSecret;
    authenticator_ = *auth::Authenticator::Create(auth_options);
    notifier_->Start();
    service_ = std::make_unique<EventStreamService>(*pool_, kSchema, *authenticator_, *executor_,
                                                    *wakeups_, &server_->registry());
    server_->AddService(service_.get());
    server_->OnShutdown([this] { service_->Shutdown(); });
    ASSERT_OK(server_->Start());
    stub_ = crm::common::v1::EventStream::NewStub(crm::testing::LocalChannel(server_->grpc_port()));
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (notifier_) notifier_->Stop();
  }

  // Appends one event (amount = `n`) for `tenant` in `tx`.
  void Append(db::Transaction& tx, const std::string& tenant, int64_t n) {
    Money payload;
    payload.set_currency_code("AMD");
    payload.set_amount_minor(n);
    EventDraft draft;
    draft.aggregate_type = "test.Aggregate";
    draft.aggregate_id = absl::StrCat("aggregates/", n);
    draft.actor = "writer";
    draft.payload = &payload;
    outbox_->Append(tx, tenant, draft);
  }

  absl::Status Write(const std::string& tenant, int64_t n) {
    auto tx = db::Transaction::Begin(*pool_, tenant, absl::Now() + absl::Seconds(10));
    if (!tx.ok()) return tx.status();
    Append(*tx, tenant, n);
    return tx->Commit();
  }

  static int64_t AmountOf(const Event& event) {
    Money money;
    event.payload().UnpackTo(&money);
    return money.amount_minor();
  }

  std::string ServiceToken() { return crm::testing::MintServiceToken("reporting"); }

  std::unique_ptr<crm::testing::TestDatabase> database_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<server::Executor> executor_;
  std::unique_ptr<server::Wakeups> wakeups_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<EventStreamService> service_;
  std::unique_ptr<crm::common::v1::EventStream::Stub> stub_;
};

TEST_F(EventStreamTest, AnEarlierPositionCommittingLaterIsNotSkipped) {
  // Writer A takes its position first and holds its transaction open.
  auto a = db::Transaction::Begin(*pool_, "acme", absl::Now() + absl::Seconds(30));
  ASSERT_OK(a);
  Append(*a, "acme", 1);
  ASSERT_OK(a->Exec("SELECT 1"));  // A's insert has run: its position is taken
  // Writer B takes a later position and commits first.
  ASSERT_OK(Write("acme", 2));

  Collector collector(*stub_, ServiceToken(), 0);
  // B must be held back while A is in flight: handing out B would move the subscriber's cursor
  // past A's position. (A bounded wait for something that must not happen.)
  EXPECT_TRUE(collector.WaitFor(1, absl::Milliseconds(400)).empty());

  ASSERT_OK(a->Commit());
  std::vector<Event> events = collector.WaitFor(2, absl::Seconds(10));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(AmountOf(events[0]), 1);
  EXPECT_EQ(AmountOf(events[1]), 2);
  EXPECT_LT(events[0].position(), events[1].position());
  EXPECT_EQ(events[0].tenant(), "acme");
  EXPECT_EQ(events[0].event_type(), "crm.common.v1.Money");
  EXPECT_EQ(events[0].aggregate_id(), "aggregates/1");

  // Resuming from A's position delivers B and never A again.
  Collector resumed(*stub_, ServiceToken(), events[0].position());
  std::vector<Event> rest = resumed.WaitFor(1, absl::Seconds(10));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(AmountOf(rest[0]), 2);
}

TEST_F(EventStreamTest, FourWritersTimesTwoThousandEventsArriveExactlyOnceInOrder) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 2000;
  Collector collector(*stub_, ServiceToken(), 0);
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        if (!Write("acme", w * 1000000 + i).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);

  std::vector<Event> events = collector.WaitFor(kWriters * kPerWriter, absl::Seconds(60));
  ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kPerWriter));
  std::set<int64_t> amounts;
  std::vector<int> next_of_writer(kWriters, 0);
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) {
      ASSERT_LT(events[i - 1].position(), events[i].position()) << "at " << i;
    }
    const int64_t amount = AmountOf(events[i]);
    EXPECT_TRUE(amounts.insert(amount).second) << "delivered twice: " << amount;
    // Each writer's events arrive in the order it committed them.
    const int writer = static_cast<int>(amount / 1000000);
    EXPECT_EQ(amount % 1000000, next_of_writer[writer]++);
  }
  EXPECT_EQ(amounts.size(), static_cast<size_t>(kWriters * kPerWriter));
}

TEST_F(EventStreamTest, OnlyTheServiceIdentityReadsTheStreamAndItSeesEveryTenant) {
  ASSERT_OK(Write("tenant-a", 1));
  ASSERT_OK(Write("tenant-b", 2));
  ASSERT_OK(Write("tenant-a", 3));

  Collector as_service(*stub_, ServiceToken(), 0);
  std::vector<Event> all = as_service.WaitFor(3, absl::Seconds(10));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].tenant(), "tenant-b");

  // A user of any role reads nothing: other users' notifications travel on this stream.
  for (const char* role : {"rep", "manager", "admin"}) {
    Collector user(*stub_, crm::testing::MintToken("tenant-a", "alice", {role}), 0);
    EXPECT_TRUE(user.WaitFor(1, absl::Seconds(5)).empty()) << role;
    ASSERT_TRUE(user.done()) << role;
    EXPECT_EQ(user.status().error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
  }
  // A tenant's token issuer cannot grant the service identity: "service" in a user token is
  // refused, and so is a service token signed with the user key.
  Collector claims_service(*stub_, crm::testing::MintToken("tenant-a", "mallory", {"service"}), 0);
  EXPECT_TRUE(claims_service.WaitFor(1, absl::Seconds(5)).empty());
  EXPECT_EQ(claims_service.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Collector user_key_service_token(
      *stub_, auth::MintServiceToken("reporting", crm::testing::kTestJwtSecret), 0);
  EXPECT_TRUE(user_key_service_token.WaitFor(1, absl::Seconds(5)).empty());
  EXPECT_EQ(user_key_service_token.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(EventStreamTest, AnUnauthenticatedSubscriberIsRefused) {
  Collector anonymous(*stub_, "not-a-token", 0);
  anonymous.WaitFor(1, absl::Seconds(5));
  ASSERT_TRUE(anonymous.done());
  EXPECT_EQ(anonymous.status().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(EventStreamTest, ASubscriberBehindRetentionIsToldSoInsteadOfMissingEvents) {
  ASSERT_OK(Write("acme", 1));
  ASSERT_OK(Write("acme", 2));
  OutboxMaintenanceOptions options;
  options.retention = absl::ZeroDuration();
  OutboxMaintenance maintenance(*pool_, kSchema, nullptr, options);
  // Pruning stops below the oldest transaction in flight anywhere in the cluster (other test
  // suites run beside this one), so it may take a few passes to reach our two events.
  int64_t pruned_total = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (pruned_total < 2 && absl::Now() < deadline) {
    auto pruned = maintenance.RunOnce();
    ASSERT_OK(pruned);
    pruned_total += *pruned;
    if (pruned_total < 2) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(pruned_total, 2);

  Collector behind(*stub_, ServiceToken(), 0);
  behind.WaitFor(1, absl::Seconds(5));
  ASSERT_TRUE(behind.done());
  EXPECT_EQ(behind.status().error_code(), grpc::StatusCode::OUT_OF_RANGE);

  // New events still reach subscribers that start where retention ended.
  auto tx = db::Transaction::BeginSystem(*pool_, absl::Now() + absl::Seconds(5));
  ASSERT_OK(tx);
  auto through = tx->Exec("SELECT pruned_through FROM pipeline.outbox_retention");
  ASSERT_OK(through);
  ASSERT_OK(tx->Commit());
  Collector current(*stub_, ServiceToken(), through->Int(0, 0));
  ASSERT_OK(Write("acme", 3));
  std::vector<Event> events = current.WaitFor(1, absl::Seconds(10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(AmountOf(events[0]), 3);
}

}  // namespace
}  // namespace crm::events
