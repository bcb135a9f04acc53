// End to end: the real contacts and pipeline binaries on one database. A deal checks its
// contact across services, and a contacts merge reaches the pipeline through the event stream.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"

namespace crm {
namespace {

TEST(PipelineE2eTest, DealsFollowContactsAcrossTheRealServices) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  const std::string& secret = testing::kJwtSecretFlag;
  const std::string& service_secret = testing::kServiceSecretFlag;
  auto contacts_process = testing::ServiceProcess::Start(
      CRM_CONTACTS_BIN, {"--db_url=" + database->ConnInfo("contacts"), secret, service_secret},
      absl::Seconds(30));
  ASSERT_TRUE(contacts_process.ok()) << contacts_process.status();
  auto pipeline_process = testing::ServiceProcess::Start(
      CRM_PIPELINE_BIN,
      {"--db_url=" + database->ConnInfo("pipeline"), secret, service_secret,
       absl::StrCat("--contacts_address=127.0.0.1:", (*contacts_process)->grpc_port())},
      absl::Seconds(30));
  ASSERT_TRUE(pipeline_process.ok()) << pipeline_process.status();

  auto contacts = contacts::v1::ContactsService::NewStub(
      testing::LocalChannel((*contacts_process)->grpc_port()));
  auto pipeline = pipeline::v1::PipelineService::NewStub(
      testing::LocalChannel((*pipeline_process)->grpc_port()));
  const std::string token = testing::MintToken("acme", "alice", {"rep"});

  auto create_contact = [&](const std::string& email) {
    contacts::v1::CreateContactRequest request;
    request.mutable_contact()->add_emails(email);
    contacts::v1::Contact contact;
    EXPECT_TRUE(
        contacts->CreateContact(testing::AuthedContext(token).get(), request, &contact).ok());
    return contact;
  };
  const contacts::v1::Contact winner = create_contact("winner@acme.example");
  const contacts::v1::Contact loser = create_contact("loser@acme.example");

  pipeline::v1::CreateDealRequest create;
  create.mutable_deal()->set_display_name("Cross-service deal");
  create.mutable_deal()->set_contact(loser.name());
  pipeline::v1::Deal deal;
  grpc::Status status = pipeline->CreateDeal(testing::AuthedContext(token).get(), create, &deal);
  ASSERT_TRUE(status.ok()) << status.error_message();
  create.mutable_deal()->set_contact("contacts/00000000-0000-7000-8000-000000000000");
  pipeline::v1::Deal ghost;
  EXPECT_EQ(pipeline->CreateDeal(testing::AuthedContext(token).get(), create, &ghost).error_code(),
            grpc::StatusCode::NOT_FOUND);

  contacts::v1::MergeContactsRequest merge;
  merge.set_winner(winner.name());
  merge.set_loser(loser.name());
  contacts::v1::Contact merged;
  ASSERT_TRUE(contacts->MergeContacts(testing::AuthedContext(token).get(), merge, &merged).ok());
  pipeline::v1::GetDealRequest get;
  get.set_name(deal.name());
  pipeline::v1::Deal after;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    ASSERT_TRUE(pipeline->GetDeal(testing::AuthedContext(token).get(), get, &after).ok());
    if (after.contact() == winner.name()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  EXPECT_EQ(after.contact(), winner.name());

  auto metrics = testing::HttpGet((*pipeline_process)->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->find("crm_consumer_position{consumer=\"pipeline.contacts\"}"),
            std::string::npos);
  for (auto* process : {pipeline_process->get(), contacts_process->get()}) {
    auto exit_status = process->StopWith(SIGTERM, absl::Seconds(20));
    ASSERT_TRUE(exit_status.ok()) << exit_status.status();
    EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0);
  }
}

}  // namespace
}  // namespace crm
