// The pipelined transaction and the pool against a real PostgreSQL: commit, rollback on
// destruction and on error, tenant scoping, statement timeouts, prepared statements, pool limits.
#include "common/db/transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "common/db/connection.h"
#include "common/db/migrations.h"
#include "common/db/pool.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/status_matchers.h"
#include "common/testing/wait.h"

namespace crm::db {
namespace {

using crm::testing::StatusIs;

const std::vector<EmbeddedFile>& TestMigrations() {
  static const auto* files = new std::vector<EmbeddedFile>{
      {"001_items.sql",
       "CREATE TABLE items (tenant_id text NOT NULL, id int NOT NULL, note text NOT NULL,"
       " PRIMARY KEY (tenant_id, id));"
       "ALTER TABLE items ENABLE ROW LEVEL SECURITY; ALTER TABLE items FORCE ROW LEVEL SECURITY;"
       "CREATE POLICY t ON items USING (tenant_id = current_setting('app.tenant', true))"
       " WITH CHECK (tenant_id = current_setting('app.tenant', true));"},
      {"002_index.sql", "CREATE INDEX items_note ON items (note);"}};
  return *files;
}

class TransactionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto database = crm::testing::TestDatabase::Create();
    ASSERT_OK(database);
    database_ = new crm::testing::TestDatabase(*std::move(database));
    // The "pipeline" schema's role stands in for any service here.
    int applied = 0;
    ASSERT_OK(Migrate(database_->ConnInfo("pipeline"), "pipeline", TestMigrations(), &applied));
    EXPECT_EQ(applied, 2);
  }
  static void TearDownTestSuite() { delete database_; }

  void SetUp() override {
    PoolOptions options;
    options.conninfo = database_->ConnInfo("pipeline") + " options='-c search_path=pipeline'";
    options.size = 2;
    options.acquire_timeout = absl::Milliseconds(300);
    pool_ = std::make_unique<Pool>(options, nullptr);
  }

  absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

  int64_t Count(const std::string& tenant) {
    auto tx = Transaction::Begin(*pool_, tenant, Soon());
    EXPECT_OK(tx);
    auto r = tx->Exec("SELECT count(*) FROM items");
    EXPECT_OK(r);
    EXPECT_OK(tx->Commit());
    return r.ok() ? r->Int(0, 0) : -1;
  }

  static crm::testing::TestDatabase* database_;
  std::unique_ptr<Pool> pool_;
};

crm::testing::TestDatabase* TransactionTest::database_ = nullptr;

TEST_F(TransactionTest, MigrationsAreRecordedAndNotAppliedTwice) {
  int applied = -1;
  ASSERT_OK(Migrate(database_->ConnInfo("pipeline"), "pipeline", TestMigrations(), &applied));
  EXPECT_EQ(applied, 0);
}

TEST_F(TransactionTest, CommitMakesQueuedWritesVisible) {
  auto tx = Transaction::Begin(*pool_, "a", Soon());
  ASSERT_OK(tx);
  const int first = tx->Queue("INSERT INTO items VALUES ('a', 1, $1) RETURNING id", {"one"});
  tx->Queue("INSERT INTO items VALUES ('a', 2, $1)", {"two"});
  ASSERT_OK(tx->Commit());
  EXPECT_EQ(tx->ResultOf(first).Int(0, 0), 1);
  EXPECT_EQ(Count("a"), 2);
  EXPECT_EQ(Count("b"), 0);  // row-level security scopes reads to the tenant
}

TEST_F(TransactionTest, DestroyingWithoutCommitRollsBack) {
  {
    auto tx = Transaction::Begin(*pool_, "rb", Soon());
    ASSERT_OK(tx);
    ASSERT_OK(tx->Exec("INSERT INTO items VALUES ('rb', 1, 'x')"));
    tx->Queue("INSERT INTO items VALUES ('rb', 2, 'y')");
  }
  EXPECT_EQ(Count("rb"), 0);
}

TEST_F(TransactionTest, AnErrorLeavesNothingWrittenAndTheConnectionUsable) {
  auto tx = Transaction::Begin(*pool_, "err", Soon());
  ASSERT_OK(tx);
  tx->Queue("INSERT INTO items VALUES ('err', 1, 'x')");
  tx->Queue("INSERT INTO items VALUES ('err', 1, 'duplicate')");
  tx->Queue("INSERT INTO items VALUES ('err', 3, 'after the error')");
  EXPECT_THAT(tx->Commit(), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(Count("err"), 0);
  // Both pooled connections still work afterwards, prepared statements included.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Count("err"), 0);
}

TEST_F(TransactionTest, AnotherTenantsRowCannotBeWritten) {
  auto tx = Transaction::Begin(*pool_, "mine", Soon());
  ASSERT_OK(tx);
  EXPECT_THAT(tx->Exec("INSERT INTO items VALUES ('theirs', 1, 'x')"),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(TransactionTest, TheCallersDeadlineBoundsEveryStatement) {
  auto tx = Transaction::Begin(*pool_, "slow", absl::Now() + absl::Milliseconds(200));
  ASSERT_OK(tx);
  const absl::Time start = absl::Now();
  EXPECT_THAT(tx->Exec("SELECT pg_sleep(5)"), StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST_F(TransactionTest, AnExhaustedPoolAnswersUnavailableAfterTheAcquireTimeout) {
  // Three tenants, so that no tenant's share is what stops the third.
  auto a = Transaction::Begin(*pool_, "x", Soon());
  auto b = Transaction::Begin(*pool_, "y", Soon());
  ASSERT_OK(a);
  ASSERT_OK(b);
  auto c = Transaction::Begin(*pool_, "z", Soon());
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(a->Commit());
  ASSERT_OK(b->Commit());
}

TEST_F(TransactionTest, OneTenantHoldsAtMostItsShareAndTheOthersAreServed) {
  PoolOptions options;
  options.conninfo = database_->ConnInfo("pipeline") + " options='-c search_path=pipeline'";
  options.size = 4;
  options.tenant_share = 0.5;  // two connections per tenant
  options.tenant_waiting = 1;
  options.acquire_timeout = absl::Milliseconds(300);
  Pool pool(options, nullptr);
  auto heavy1 = Transaction::Begin(pool, "heavy", Soon());
  auto heavy2 = Transaction::Begin(pool, "heavy", Soon());
  ASSERT_OK(heavy1);
  ASSERT_OK(heavy2);
  // The heavy tenant's next request waits for one of its own connections, and gets it once one
  // is given back...
  std::thread waiter([&] {
    auto heavy3 = Transaction::Begin(pool, "heavy", absl::Now() + absl::Seconds(5));
    EXPECT_OK(heavy3);
    if (heavy3.ok()) {
      EXPECT_OK(heavy3->Commit());
    }
  });
  ASSERT_TRUE(crm::testing::WaitUntil([&] { return pool.waiting() == 1; }, absl::Seconds(5)));
  // ... while another tenant is served from the connections left.
  auto light = Transaction::Begin(pool, "light", Soon());
  ASSERT_OK(light);
  // With one request of the heavy tenant already waiting, more are refused without waiting.
  auto heavy4 = Transaction::Begin(pool, "heavy", Soon());
  EXPECT_THAT(heavy4, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(heavy4.status().message()),
              ::testing::HasSubstr("more requests waiting"));
  ASSERT_OK(heavy1->Commit());
  waiter.join();
  ASSERT_OK(heavy2->Commit());
  ASSERT_OK(light->Commit());
  // System work (no tenant) is not held to a share.
  auto system1 = Transaction::BeginSystem(pool, Soon());
  auto system2 = Transaction::BeginSystem(pool, Soon());
  auto system3 = Transaction::BeginSystem(pool, Soon());
  EXPECT_OK(system1);
  EXPECT_OK(system2);
  EXPECT_OK(system3);
}

TEST_F(TransactionTest, AFinishedTransactionGivesItsConnectionBackAtOnce) {
  // Both connections of the pool are used by transactions that are finished but still alive
  // (results being read, an error being looked up): a third must still get a connection.
  auto a = Transaction::Begin(*pool_, "x", Soon());
  auto b = Transaction::Begin(*pool_, "y", Soon());
  ASSERT_OK(a);
  ASSERT_OK(b);
  const int read = a->Queue("SELECT 42");
  ASSERT_OK(a->Commit());
  b->Queue("INSERT INTO items VALUES ('y', 1, 'a'), ('y', 1, 'dup')");
  EXPECT_THAT(b->Commit(), StatusIs(absl::StatusCode::kAlreadyExists));
  auto c = Transaction::Begin(*pool_, "x", Soon());
  ASSERT_OK(c);
  ASSERT_OK(c->Commit());
  EXPECT_EQ(a->ResultOf(read).Int(0, 0), 42);
  // Queueing on a finished transaction is an error, not a crash.
  EXPECT_THAT(a->Exec("SELECT 1"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(TransactionTest, ALongPipelineDoesNotDeadlock) {
  auto tx = Transaction::Begin(*pool_, "long", Soon());
  ASSERT_OK(tx);
  // Far more statements than fit in the socket buffers unread.
  for (int i = 0; i < 5000; ++i) {
    tx->Queue("INSERT INTO items VALUES ('long', $1, repeat('x', 200))", {std::to_string(i)});
  }
  ASSERT_OK(tx->Commit());
  EXPECT_EQ(Count("long"), 5000);
}

TEST_F(TransactionTest, ParametersAreDataNeverSql) {
  auto tx = Transaction::Begin(*pool_, "inj", Soon());
  ASSERT_OK(tx);
  const std::string evil = "x'); DROP TABLE items; --";
  tx->Queue("INSERT INTO items VALUES ('inj', 1, $1)", {evil});
  ASSERT_OK(tx->Commit());
  auto read = Transaction::Begin(*pool_, "inj", Soon());
  ASSERT_OK(read);
  auto r = read->Exec("SELECT note FROM items WHERE id = 1");
  ASSERT_OK(r);
  EXPECT_EQ(r->String(0, 0), evil);
}

}  // namespace
}  // namespace crm::db
