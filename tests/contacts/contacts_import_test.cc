// CSV import against a real PostgreSQL: the seed's three reps import overlapping spreadsheets and
// end with one contact per person; malformed rows are reported and nothing partial is written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "services/contacts/contact_importer.h"
#include "tests/contacts/contacts_test_env.h"

namespace crm::contacts {
namespace {

using crm::testing::AuthedContext;
using crm::testing::MintToken;
using Outcome = v1::ImportRowResult::Outcome;

class ContactsImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::ContactsTestEnv::Start().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    tenant_ = "t" + ids::NewUuidV7().substr(24);
    v1::UpdateTenantSettingsRequest settings;
    settings.mutable_settings()->set_default_phone_region("AM");
    settings.mutable_update_mask()->add_paths("default_phone_region");
    v1::TenantSettings result;
    ASSERT_TRUE(
        env_->stub()
            .UpdateTenantSettings(AuthedContext(MintToken(tenant_, "root", {"admin"})).get(),
                                  settings, &result)
            .ok());
  }

  // Sends `csv` in chunks of `chunk` bytes.
  grpc::Status Import(const std::string& user, const std::string& import_id, const std::string& csv,
                      v1::ImportContactsResponse* response, size_t chunk = 7,
                      const std::string& role = "rep") {
    auto context = AuthedContext(MintToken(tenant_, user, {role}));
    auto writer = env_->stub().ImportContacts(context.get(), response);
    v1::ImportContactsRequest options;
    options.mutable_options()->set_import_id(import_id);
    writer->Write(options);
    for (size_t i = 0; i < csv.size(); i += chunk) {
      v1::ImportContactsRequest part;
      part.set_chunk(csv.substr(i, chunk));
      writer->Write(part);
    }
    writer->WritesDone();
    return writer->Finish();
  }

  int64_t CountContacts() {
    v1::ListContactsRequest request;
    request.set_page_size(1000);
    v1::ListContactsResponse response;
    EXPECT_TRUE(
        env_->stub()
            .ListContacts(AuthedContext(MintToken(tenant_, "x", {"rep"})).get(), request, &response)
            .ok());
    return response.contacts_size();
  }

  static testing::ContactsTestEnv* env_;
  std::string tenant_;
};

testing::ContactsTestEnv* ContactsImportTest::env_ = nullptr;

TEST_F(ContactsImportTest, ThreeRepsOverlappingListsEndWithOneContactPerPerson) {
  // Lead X reached all three reps (email marketing, paid ads, social media), written three ways.
  const std::string rep1 =
      "\xEF\xBB\xBF"  // UTF-8 BOM, as Excel writes it
      "First Name,Last Name,Email,Phone,Source\r\n"
      "Աննա,Պետրոսյան,Anna.P@Example.com,+374 91 234567,email marketing\r\n"
      "Boris,Ivanov,boris@example.com,,email marketing\r\n";
  const std::string rep2 =
      "name,e-mail,mobile,tags\n"
      "\"Petrosyan, Anna\",anna.p@example.COM,091 23-45-67,\"vip;webinar\"\n"
      "Carla Diaz,carla@example.com,,\n";
  const std::string rep3 =
      "given_name,family_name,phone,email,lead_source\n"
      "Anna,Petrosyan,(091) 234 567,,social media\n"
      "Boris,Ivanov,+374 10 555555,BORIS@example.com,social media\n"
      "Dana,,not-a-phone,dana@example.com,social media\n"
      "Eve,Bad,,\"broken\"quote@example.com,other\n";

  v1::ImportContactsResponse first, second, third;
  ASSERT_TRUE(Import("rep1", "rep1-list", rep1, &first).ok());
  ASSERT_TRUE(Import("rep2", "rep2-list", rep2, &second).ok());
  grpc::Status status = Import("rep3", "rep3-list", rep3, &third);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(first.created(), 2);
  ASSERT_EQ(second.rows_size(), 2);
  // Rep 2 finds Anna already owned by rep 1: reported as a duplicate, rep 1's record untouched.
  EXPECT_EQ(second.rows(0).outcome(), v1::ImportRowResult::DUPLICATE_SKIPPED);
  EXPECT_EQ(second.rows(0).contact(), first.rows(0).contact());
  EXPECT_THAT(second.rows(0).error(), ::testing::HasSubstr("another rep"));
  EXPECT_EQ(second.rows(1).outcome(), v1::ImportRowResult::CREATED);
  ASSERT_EQ(third.rows_size(), 4);
  EXPECT_EQ(third.rows(0).outcome(), v1::ImportRowResult::DUPLICATE_SKIPPED);
  EXPECT_EQ(third.rows(0).contact(), first.rows(0).contact());
  EXPECT_EQ(third.rows(1).outcome(), v1::ImportRowResult::DUPLICATE_SKIPPED);
  EXPECT_EQ(third.rows(1).contact(), first.rows(1).contact());
  EXPECT_EQ(third.rows(2).outcome(), v1::ImportRowResult::INVALID);
  EXPECT_THAT(third.rows(2).error(), ::testing::HasSubstr("phones"));
  EXPECT_EQ(third.rows(2).line(), 4);
  EXPECT_EQ(third.rows(3).outcome(), v1::ImportRowResult::INVALID);
  EXPECT_EQ(third.invalid(), 2);

  // Anna, Boris and Carla: one contact each; the invalid rows wrote nothing.
  EXPECT_EQ(CountContacts(), 3);

  // A manager's import of the same list merges the new details into the existing contacts.
  v1::ImportContactsResponse by_manager;
  ASSERT_TRUE(Import("boss", "manager-list", rep3, &by_manager, 7, "manager").ok());
  EXPECT_EQ(by_manager.rows(1).outcome(), v1::ImportRowResult::MERGED);  // a phone for Boris
  EXPECT_EQ(by_manager.rows(1).contact(), first.rows(1).contact());
  EXPECT_EQ(CountContacts(), 3);
  v1::GetContactRequest get;
  get.set_name(first.rows(1).contact());
  v1::Contact boris;
  ASSERT_TRUE(env_->stub()
                  .GetContact(AuthedContext(MintToken(tenant_, "x", {"rep"})).get(), get, &boris)
                  .ok());
  EXPECT_THAT(boris.phones(), ::testing::ElementsAre("+37410555555"));
  EXPECT_THAT(boris.emails(), ::testing::ElementsAre("boris@example.com"));
}

TEST_F(ContactsImportTest, TheSameImportIdReturnsTheFirstReportAndWritesNothingMore) {
  const std::string csv = "email,given_name\nx1@example.com,X\nx2@example.com,Y\n";
  v1::ImportContactsResponse first, again;
  ASSERT_TRUE(Import("rep1", "same-id", csv, &first).ok());
  ASSERT_TRUE(Import("rep1", "same-id", csv + "x3@example.com,Z\n", &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(CountContacts(), 2);
}

TEST_F(ContactsImportTest, ManyRowsAcrossBatchesWithDuplicatesInsideTheFile) {
  std::string csv = "email,phone,given_name\n";
  const int rows = ContactImporter::kBatchRows * 2 + 17;
  for (int i = 0; i < rows; ++i) {
    // Every tenth row repeats an earlier person with a differently cased email.
    const int person = i % 10 == 9 ? i - 9 : i;
    csv += absl::StrCat(i % 10 == 9 ? "PERSON" : "person", person, "@example.com,,P", person, "\n");
  }
  v1::ImportContactsResponse report;
  ASSERT_TRUE(Import("rep1", "big", csv, &report, 4096).ok());
  EXPECT_EQ(report.rows_size(), rows);
  EXPECT_EQ(report.created() + report.duplicates() + report.merged(), rows);
  EXPECT_EQ(report.duplicates(), rows / 10);
  EXPECT_EQ(CountContacts(), rows - rows / 10);

  // Every created contact has its event, in increasing positions.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + crm::testing::MintServiceToken());
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  crm::common::v1::SubscribeRequest request;
  request.add_event_types("crm.contacts.v1.ContactCreated");
  auto reader = env_->events_stub().Subscribe(&context, request);
  crm::common::v1::Event event;
  int64_t events = 0;
  int64_t last_position = 0;
  while (events < report.created() && reader->Read(&event)) {
    if (event.tenant() != tenant_) continue;  // the service identity reads every tenant's
    EXPECT_GT(event.position(), last_position);
    last_position = event.position();
    ++events;
  }
  context.TryCancel();
  EXPECT_EQ(events, report.created());
}

TEST_F(ContactsImportTest, AFileWithoutOptionsOrHeaderIsRejected) {
  v1::ImportContactsResponse report;
  EXPECT_EQ(Import("rep1", "", "email\nx@example.com\n", &report).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Import("rep1", "empty", "", &report).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace crm::contacts
