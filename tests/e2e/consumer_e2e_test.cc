// The exactly-once consumer end to end: the real contacts binary produces events, a real consumer
// process applies them; consumers are SIGKILLed mid-stream and replicas take over, and every
// event still takes effect exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/db/connection.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"

namespace crm {
namespace {

struct Effects {
  int64_t count = 0;
  int64_t max_applied = 0;
  int64_t appliers = 0;
};

class ConsumerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = testing::TestDatabase::Create();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::make_unique<testing::TestDatabase>(*std::move(database));
    auto source =
        testing::ServiceProcess::Start(CRM_CONTACTS_BIN,
                                       {"--db_url=" + database_->ConnInfo("contacts"),
                                        testing::kJwtSecretFlag, testing::kServiceSecretFlag},
                                       absl::Seconds(30));
    ASSERT_TRUE(source.ok()) << source.status();
    source_ = *std::move(source);
    stub_ = contacts::v1::ContactsService::NewStub(testing::LocalChannel(source_->grpc_port()));
    token_ = testing::MintToken("acme", "alice", {"rep"});
  }

  std::unique_ptr<testing::ServiceProcess> StartSink(const std::string& applier) {
    auto sink =
        testing::ServiceProcess::Start(CRM_SINK_BIN,
                                       {"--db_url=" + database_->ConnInfo("reporting"),
                                        absl::StrCat("--source=127.0.0.1:", source_->grpc_port()),
                                        testing::kServiceSecretFlag, "--applier=" + applier},
                                       absl::Seconds(30));
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? *std::move(sink) : nullptr;
  }

  void CreateContacts(int from, int count) {
    for (int i = from; i < from + count; ++i) {
      contacts::v1::CreateContactRequest request;
      request.mutable_contact()->set_given_name(absl::StrCat("Lead ", i));
      request.mutable_contact()->add_emails(absl::StrCat("lead", i, "@example.com"));
      contacts::v1::Contact contact;
      grpc::Status status =
          stub_->CreateContact(testing::AuthedContext(token_).get(), request, &contact);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  Effects ReadEffects(const std::string& where = "true") {
    Effects effects;
    auto conn = db::Connection::Open(database_->ConnInfo("postgres"), absl::Seconds(5));
    if (!conn.ok()) return effects;
    auto r = (*conn)->Exec(
        absl::StrCat("SELECT count(*), coalesce(max(applied_count), 0), count(DISTINCT applier) "
                     "FROM reporting.sink_effects WHERE ",
                     where));
    if (!r.ok()) return effects;  // the sink has not created its table yet
    effects.count = r->Int(0, 0);
    effects.max_applied = r->Int(0, 1);
    effects.appliers = r->Int(0, 2);
    return effects;
  }

  // Waits (bounded) for at least `n` effects.
  Effects WaitForEffects(int64_t n, absl::Duration timeout = absl::Seconds(60)) {
    const absl::Time deadline = absl::Now() + timeout;
    Effects effects = ReadEffects();
    while (effects.count < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
      effects = ReadEffects();
    }
    return effects;
  }

  std::string Leader() {
    auto conn = db::Connection::Open(database_->ConnInfo("postgres"), absl::Seconds(5));
    if (!conn.ok()) return "";
    auto r =
        (*conn)->Exec("SELECT applier FROM reporting.sink_effects ORDER BY position DESC LIMIT 1");
    return r.ok() && r->rows() == 1 ? r->String(0, 0) : "";
  }

  std::unique_ptr<testing::TestDatabase> database_;
  std::unique_ptr<testing::ServiceProcess> source_;
  std::unique_ptr<contacts::v1::ContactsService::Stub> stub_;
  std::string token_;
};

TEST_F(ConsumerE2eTest, AConsumerKilledMidStreamAppliesEveryEventExactlyOnceAfterRestart) {
  constexpr int kEvents = 400;
  std::thread producer([&] { CreateContacts(0, kEvents); });
  auto sink = StartSink("first");
  ASSERT_NE(sink, nullptr);
  WaitForEffects(50);
  // Killed mid-stream, without any chance to clean up.
  ASSERT_TRUE(sink->StopWith(SIGKILL, absl::Seconds(10)).ok());
  const Effects at_kill = ReadEffects();
  EXPECT_GE(at_kill.count, 50);
  auto restarted = StartSink("second");
  ASSERT_NE(restarted, nullptr);
  producer.join();
  const Effects effects = WaitForEffects(kEvents);
  EXPECT_EQ(effects.count, kEvents);
  EXPECT_EQ(effects.max_applied, 1) << "some event took effect twice";
}

TEST_F(ConsumerE2eTest, OnlyOneReplicaAppliesAndAnotherTakesOverWhenItDies) {
  auto a = StartSink("a");
  auto b = StartSink("b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  CreateContacts(0, 100);
  Effects effects = WaitForEffects(100);
  ASSERT_EQ(effects.count, 100);
  EXPECT_EQ(effects.appliers, 1) << "two replicas applied at once";
  const std::string leader = Leader();
  ASSERT_TRUE(leader == "a" || leader == "b");
  auto& dying = leader == "a" ? a : b;
  ASSERT_TRUE(dying->StopWith(SIGKILL, absl::Seconds(10)).ok());

  CreateContacts(100, 100);
  effects = WaitForEffects(200);
  EXPECT_EQ(effects.count, 200);
  EXPECT_EQ(effects.max_applied, 1);
  const Effects after_kill = ReadEffects(absl::StrCat("applier <> '", leader, "'"));
  EXPECT_GE(after_kill.count, 100) << "the standby did not take over";
}

}  // namespace
}  // namespace crm
