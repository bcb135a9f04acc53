// End to end: the real contacts binary on a fresh database, driven over gRPC as a client would.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace crm {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class ContactsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = testing::TestDatabase::Create();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = std::make_unique<testing::TestDatabase>(*std::move(database));
    auto process =
        testing::ServiceProcess::Start(CRM_CONTACTS_BIN,
                                       {"--db_url=" + database_->ConnInfo("contacts"),
                                        testing::kJwtSecretFlag, testing::kServiceSecretFlag},
                                       absl::Seconds(30));
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = *std::move(process);
  }

  std::unique_ptr<testing::TestDatabase> database_;
  std::unique_ptr<testing::ServiceProcess> process_;
};

TEST_F(ContactsE2eTest, ServesHealthCallsAndMetricsThenStopsCleanlyOnSigterm) {
  auto channel = testing::LocalChannel(process_->grpc_port());

  grpc::health::v1::HealthCheckRequest health_request;
  grpc::health::v1::HealthCheckResponse health;
  grpc::ClientContext health_context;
  ASSERT_TRUE(grpc::health::v1::Health::NewStub(channel)
                  ->Check(&health_context, health_request, &health)
                  .ok());
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto stub = contacts::v1::ContactsService::NewStub(channel);
  const std::string token = testing::MintToken("acme", "alice", {"rep"});
  contacts::v1::CreateContactRequest request;
  request.mutable_contact()->set_given_name("Anna");
  request.mutable_contact()->add_emails("anna@example.com");
  contacts::v1::Contact created;
  grpc::Status status = stub->CreateContact(testing::AuthedContext(token).get(), request, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  contacts::v1::GetContactRequest get;
  get.set_name(created.name());
  contacts::v1::Contact fetched;
  ASSERT_TRUE(stub->GetContact(testing::AuthedContext(token).get(), get, &fetched).ok());
  EXPECT_EQ(fetched.emails(0), "anna@example.com");
  contacts::v1::Contact unauthenticated;
  EXPECT_EQ(stub->GetContact(testing::AuthedContext("").get(), get, &unauthenticated).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  auto metrics = testing::HttpGet(process_->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, HasSubstr("grpc_server_handled_total{"));
  EXPECT_THAT(*metrics, MatchesRegex("(.|\n)*grpc_server_handled_total\\{[^}]*grpc_code=\"OK\"[^}]*"
                                     "grpc_method=\"CreateContact\"[^}]*\\} 1\n(.|\n)*"));
  EXPECT_THAT(*metrics,
              MatchesRegex("(.|\n)*grpc_server_handled_total\\{[^}]*grpc_code=\"Unauthenticated\""
                           "[^}]*grpc_method=\"GetContact\"[^}]*\\} 1\n(.|\n)*"));
  EXPECT_THAT(*metrics, HasSubstr("grpc_server_handling_seconds_bucket{"));
  EXPECT_THAT(*metrics, HasSubstr("crm_db_pool_connections{pool=\"main\"}"));
  EXPECT_THAT(*metrics, HasSubstr("process_resident_memory_bytes "));

  auto exit_status = process_->StopWith(SIGTERM, absl::Seconds(15));
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_TRUE(WIFEXITED(*exit_status));
  EXPECT_EQ(WEXITSTATUS(*exit_status), 0);
}

TEST_F(ContactsE2eTest, RefusesToStartWithoutAuthConfiguration) {
  auto process = testing::ServiceProcess::Start(
      CRM_CONTACTS_BIN, {"--db_url=" + database_->ConnInfo("contacts")}, absl::Seconds(10));
  EXPECT_FALSE(process.ok());
}

}  // namespace
}  // namespace crm
