// Contacts beyond CRUD against a real PostgreSQL: filters, the activity timeline, search, likely
// duplicates and merging.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/db/connection.h"
#include "common/db/sql_helpers.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/status_matchers.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/contacts/store_support.h"
#include "tests/contacts/contacts_test_env.h"

namespace crm::contacts {
namespace {

using crm::testing::AuthedContext;
using crm::testing::MintToken;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;
using v1::Contact;

class ContactsFeaturesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::ContactsTestEnv::Start().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    tenant_ = "t" + ids::NewUuidV7().substr(24);
    token_ = MintToken(tenant_, "alice", {"manager"});
  }

  Contact Create(Contact c) {
    v1::CreateContactRequest request;
    *request.mutable_contact() = std::move(c);
    Contact out;
    grpc::Status status = env_->stub().CreateContact(AuthedContext(token_).get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  static Contact Person(const std::string& given, const std::string& family,
                        const std::string& email) {
    Contact c;
    c.set_given_name(given);
    c.set_family_name(family);
    if (!email.empty()) c.add_emails(email);
    return c;
  }

  std::vector<std::string> ListNames(const std::string& filter, grpc::Status* status = nullptr) {
    v1::ListContactsRequest request;
    request.set_filter(filter);
    request.set_page_size(1000);
    v1::ListContactsResponse response;
    grpc::Status s = env_->stub().ListContacts(AuthedContext(token_).get(), request, &response);
    if (status != nullptr) *status = s;
    std::vector<std::string> names;
    for (const Contact& c : response.contacts()) names.push_back(c.given_name());
    return names;
  }

  v1::Activity Log(const Contact& contact, v1::ActivityKind kind, int64_t occur_seconds,
                   const std::string& token = "") {
    v1::LogActivityRequest request;
    request.mutable_activity()->set_kind(kind);
    request.mutable_activity()->set_contact(contact.name());
    request.mutable_activity()->mutable_occur_time()->set_seconds(occur_seconds);
    request.mutable_activity()->set_subject(absl::StrCat("touch at ", occur_seconds));
    v1::Activity out;
    grpc::Status status = env_->stub().LogActivity(
        AuthedContext(token.empty() ? token_ : token).get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  static testing::ContactsTestEnv* env_;
  std::string tenant_;
  std::string token_;
};

testing::ContactsTestEnv* ContactsFeaturesTest::env_ = nullptr;

TEST_F(ContactsFeaturesTest, ListFiltersOnStagesTagsAttributesAndCompanies) {
  v1::CreateCompanyRequest company;
  company.mutable_company()->set_display_name("Acme");
  company.mutable_company()->set_industry("Software");
  v1::Company acme;
  ASSERT_TRUE(env_->stub().CreateCompany(AuthedContext(token_).get(), company, &acme).ok());

  Contact a = Person("A", "One", "a@x.example");
  a.set_lifecycle_stage(v1::LIFECYCLE_STAGE_CUSTOMER);
  a.add_tags("vip");
  (*a.mutable_attributes())["size"] = "38";
  a.set_company(acme.name());
  Create(a);
  Contact b = Person("B", "Two", "b@x.example");
  b.set_lifecycle_stage(v1::LIFECYCLE_STAGE_LEAD);
  b.add_tags("vip");
  b.set_lead_source(v1::LEAD_SOURCE_PAID_ADS);
  Create(b);
  Contact c = Person("C", "Three", "c@x.example");
  c.set_lifecycle_stage(v1::LIFECYCLE_STAGE_CUSTOMER);
  Create(c);

  EXPECT_THAT(ListNames("lifecycle_stage = CUSTOMER AND tags:vip"), ElementsAre("A"));
  EXPECT_THAT(ListNames("lifecycle_stage = CUSTOMER OR lead_source = PAID_ADS"),
              ElementsAre("A", "B", "C"));
  EXPECT_THAT(ListNames("tags:vip AND NOT lifecycle_stage = lead"), ElementsAre("A"));
  EXPECT_THAT(ListNames("attributes.size = \"38\""), ElementsAre("A"));
  EXPECT_THAT(ListNames("company.industry = \"Software\""), ElementsAre("A"));
  EXPECT_THAT(ListNames("emails:\"b@x.example\""), ElementsAre("B"));
  EXPECT_THAT(ListNames("create_time > \"2000-01-01T00:00:00Z\" AND family_name:thr"),
              ElementsAre("C"));
  // An injection attempt is only data: no match, and the table is still there afterwards.
  EXPECT_TRUE(ListNames("given_name = \"x'); DROP TABLE contacts.contacts; --\"").empty());
  EXPECT_THAT(ListNames(""), ElementsAre("A", "B", "C"));

  grpc::Status status;
  ListNames("lifecycle_stage = CUSTOMER AND colour = red", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("position"));
  ListNames("(tags:vip", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsFeaturesTest, TimelineIsNewestFirstAcrossPagesAndStampsLastContacted) {
  Contact x = Create(Person("Lead", "X", "x@lead.example"));
  const int64_t base = 1'780'000'000;
  std::set<std::string> logged;
  for (int i : {3, 1, 6, 2, 5, 4, 0}) {
    logged.insert(Log(x, v1::ACTIVITY_KIND_CALL, base + i * 60).name());
  }
  // A later note does not count as contacting the lead.
  Log(x, v1::ACTIVITY_KIND_NOTE, base + 3600);

  std::vector<int64_t> seen;
  v1::ListActivitiesRequest request;
  request.set_parent(x.name());
  request.set_page_size(3);
  for (int page = 0; page < 10; ++page) {
    v1::ListActivitiesResponse response;
    ASSERT_TRUE(env_->stub().ListActivities(AuthedContext(token_).get(), request, &response).ok());
    for (const auto& a : response.activities()) seen.push_back(a.occur_time().seconds());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  ASSERT_EQ(seen.size(), 8u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i - 1], seen[i]);

  // A second rep sees who called X last.
  const std::string bob = MintToken(tenant_, "bob", {"rep"});
  Log(x, v1::ACTIVITY_KIND_CALL, base + 1800, bob);
  v1::GetContactRequest get;
  get.set_name(x.name());
  Contact fetched;
  ASSERT_TRUE(env_->stub().GetContact(AuthedContext(token_).get(), get, &fetched).ok());
  EXPECT_EQ(fetched.last_contacted_by(), "bob");
  EXPECT_EQ(fetched.last_contacted_time().seconds(), base + 1800);

  // Logging on a contact that does not exist changes nothing.
  v1::LogActivityRequest ghost;
  ghost.mutable_activity()->set_kind(v1::ACTIVITY_KIND_CALL);
  ghost.mutable_activity()->set_contact("contacts/00000000-0000-7000-8000-000000000000");
  v1::Activity out;
  EXPECT_EQ(env_->stub().LogActivity(AuthedContext(token_).get(), ghost, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ContactsFeaturesTest, SearchFindsPartialMisspelledAndNonLatinNames) {
  Create(Person("Anna", "Petrosyan", "anna@acme.example"));
  Create(Person("Աննա", "Պետրոսյան", "anna.hy@acme.example"));
  Create(Person("Boris", "Ivanov", "boris@other.example"));

  auto search = [&](const std::string& query) {
    v1::SearchContactsRequest request;
    request.set_query(query);
    v1::SearchContactsResponse response;
    grpc::Status status =
        env_->stub().SearchContacts(AuthedContext(token_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const auto& r : response.results()) names.push_back(r.contact().family_name());
    return names;
  };
  EXPECT_THAT(search("petrosian"), ElementsAre("Petrosyan"));  // misspelt
  EXPECT_THAT(search("Petros"), ElementsAre("Petrosyan"));     // partial
  EXPECT_THAT(search("Պետրոսյան"), ElementsAre("Պետրոսյան"));  // Armenian
  EXPECT_THAT(search("պետրոս"), ElementsAre("Պետրոսյան"));     // partial, lower case
  EXPECT_THAT(search("boris@other"), ElementsAre("Ivanov"));   // email
  EXPECT_TRUE(search("zzzzqqq").empty());

  v1::SearchContactsRequest empty;
  v1::SearchContactsResponse response;
  EXPECT_EQ(env_->stub().SearchContacts(AuthedContext(token_).get(), empty, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsFeaturesTest, LikelyDuplicatesAreScoredWithReasons) {
  v1::CreateCompanyRequest company;
  company.mutable_company()->set_display_name("Acme");
  v1::Company acme;
  ASSERT_TRUE(env_->stub().CreateCompany(AuthedContext(token_).get(), company, &acme).ok());
  Contact one = Person("Anna", "Petrosyan", "anna@acme.example");
  one.set_company(acme.name());
  one = Create(one);
  Contact two = Person("ANNA", "petrosyan", "a.petrosyan@gmail.example");
  two.set_company(acme.name());
  two = Create(two);
  Create(Person("Anna", "Petrosyants", "ap@other.example"));
  Create(Person("Boris", "Ivanov", "boris@other.example"));

  v1::FindDuplicatesRequest request;
  request.set_name(one.name());
  v1::FindDuplicatesResponse response;
  ASSERT_TRUE(env_->stub().FindDuplicates(AuthedContext(token_).get(), request, &response).ok());
  ASSERT_GE(response.candidates_size(), 1);
  EXPECT_EQ(response.candidates(0).contact().name(), two.name());
  EXPECT_THAT(response.candidates(0).reasons(),
              ::testing::Contains("same name at the same company"));
  for (const auto& c : response.candidates()) EXPECT_NE(c.contact().family_name(), "Ivanov");
}

TEST_F(ContactsFeaturesTest, MergeMovesEverythingLeavesATombstoneAndIsIdempotent) {
  Contact winner = Person("Anna", "Petrosyan", "anna@acme.example");
  winner.add_tags("vip");
  winner = Create(winner);
  Contact loser = Person("Anna", "", "anna.p@gmail.example");
  loser.add_phones("+1 202-555-0142");
  loser.add_tags("webinar");
  (*loser.mutable_attributes())["source_list"] = "rep2";
  loser = Create(loser);
  const v1::Activity call = Log(loser, v1::ACTIVITY_KIND_CALL, 1'780'000'000);

  v1::MergeContactsRequest request;
  request.set_winner(winner.name());
  request.set_loser(loser.name());
  Contact merged;
  grpc::Status status = env_->stub().MergeContacts(AuthedContext(token_).get(), request, &merged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(merged.emails(), ElementsAre("anna@acme.example", "anna.p@gmail.example"));
  EXPECT_THAT(merged.phones(), ElementsAre("+12025550142"));
  EXPECT_THAT(merged.tags(), UnorderedElementsAre("vip", "webinar"));
  EXPECT_EQ(merged.attributes().at("source_list"), "rep2");
  EXPECT_EQ(merged.last_contacted_time().seconds(), 1'780'000'000);

  // The loser is a tombstone that says where it went; lists no longer show it.
  v1::GetContactRequest get;
  get.set_name(loser.name());
  Contact tombstone;
  ASSERT_TRUE(env_->stub().GetContact(AuthedContext(token_).get(), get, &tombstone).ok());
  EXPECT_EQ(tombstone.merged_into(), winner.name());
  EXPECT_EQ(ListNames("").size(), 1u);
  // The activity moved, and the loser's email now finds the winner as a duplicate.
  v1::ListActivitiesRequest timeline;
  timeline.set_parent(winner.name());
  v1::ListActivitiesResponse activities;
  ASSERT_TRUE(env_->stub().ListActivities(AuthedContext(token_).get(), timeline, &activities).ok());
  ASSERT_EQ(activities.activities_size(), 1);
  EXPECT_EQ(activities.activities(0).name(), call.name());
  v1::CreateContactRequest again;
  again.mutable_contact()->add_emails("ANNA.P@gmail.example");
  Contact dup;
  status = env_->stub().CreateContact(AuthedContext(token_).get(), again, &dup);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(status), &info));
  EXPECT_EQ(info.resource_name(), winner.name());

  // Merging again changes nothing.
  Contact twice;
  ASSERT_TRUE(env_->stub().MergeContacts(AuthedContext(token_).get(), request, &twice).ok());
  EXPECT_EQ(twice.etag(), merged.etag());
}

TEST_F(ContactsFeaturesTest, ConcurrentMergesOfTheSamePairCannotCorruptData) {
  for (int round = 0; round < 5; ++round) {
    Contact a = Create(Person("A", absl::StrCat(round), absl::StrCat("a", round, "@x.example")));
    Contact b = Create(Person("B", absl::StrCat(round), absl::StrCat("b", round, "@x.example")));
    std::vector<grpc::Status> results(2);
    std::thread first([&] {
      v1::MergeContactsRequest r;
      r.set_winner(a.name());
      r.set_loser(b.name());
      Contact out;
      results[0] = env_->stub().MergeContacts(AuthedContext(token_).get(), r, &out);
    });
    std::thread second([&] {
      v1::MergeContactsRequest r;
      r.set_winner(b.name());
      r.set_loser(a.name());
      Contact out;
      results[1] = env_->stub().MergeContacts(AuthedContext(token_).get(), r, &out);
    });
    first.join();
    second.join();
    // Exactly one direction wins; the other finds its winner gone.
    EXPECT_NE(results[0].ok(), results[1].ok());
    const std::vector<std::string> live = ListNames(absl::StrCat("family_name = \"", round, "\""));
    ASSERT_EQ(live.size(), 1u);
    // Both emails belong to the one live contact.
    v1::ListContactsRequest list;
    list.set_filter(absl::StrCat("family_name = \"", round, "\""));
    v1::ListContactsResponse response;
    ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(token_).get(), list, &response).ok());
    EXPECT_EQ(response.contacts(0).emails_size(), 2);
  }
}

TEST_F(ContactsFeaturesTest, SegmentCountMatchesMembersAndExportsCsvWithMessages) {
  for (int i = 0; i < 7; ++i) {
    Contact c = Person(absl::StrCat("Customer", i), "Doe", absl::StrCat("c", i, "@x.example"));
    c.set_lifecycle_stage(v1::LIFECYCLE_STAGE_CUSTOMER);
    if (i == 3) c.set_given_name("=HYPERLINK(\"evil\")");
    Create(c);
  }
  Create(Person("Lead", "Doe", "lead@x.example"));

  v1::CreateSegmentRequest create;
  create.mutable_segment()->set_display_name("Customers");
  create.mutable_segment()->set_filter("lifecycle_stage = CUSTOMER");
  v1::Segment segment;
  ASSERT_TRUE(env_->stub().CreateSegment(AuthedContext(token_).get(), create, &segment).ok());

  v1::CountSegmentRequest count;
  count.set_name(segment.name());
  v1::CountSegmentResponse counted;
  ASSERT_TRUE(env_->stub().CountSegment(AuthedContext(token_).get(), count, &counted).ok());
  EXPECT_EQ(counted.count(), 7);
  int listed = 0;
  v1::ListSegmentMembersRequest members;
  members.set_name(segment.name());
  members.set_page_size(3);
  for (int page = 0; page < 10; ++page) {
    v1::ListContactsResponse response;
    ASSERT_TRUE(
        env_->stub().ListSegmentMembers(AuthedContext(token_).get(), members, &response).ok());
    listed += response.contacts_size();
    if (response.next_page_token().empty()) break;
    members.set_page_token(response.next_page_token());
  }
  EXPECT_EQ(listed, counted.count());

  v1::ExportSegmentRequest export_request;
  export_request.set_name(segment.name());
  export_request.set_message_template("Hello {{ first_name }}!");
  grpc::ClientContext export_context;
  export_context.AddMetadata("authorization", "Bearer " + token_);
  auto reader = env_->stub().ExportSegment(&export_context, export_request);
  std::string csv;
  v1::ExportChunk chunk;
  int64_t rows_done = 0;
  while (reader->Read(&chunk)) {
    csv += chunk.data();
    rows_done = chunk.rows_done();
    EXPECT_EQ(chunk.rows_total(), 7);
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows_done, 7);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8);  // header + 7 rows
  EXPECT_THAT(csv, HasSubstr("\"Hello Customer0!\""));
  EXPECT_THAT(csv, ::testing::Not(HasSubstr("\"Lead\"")));
  // A formula in a name is defused for spreadsheets.
  EXPECT_THAT(csv, HasSubstr("\"'=HYPERLINK(\"\"evil\"\")\""));

  v1::PreviewSegmentMessagesRequest preview;
  preview.set_name(segment.name());
  preview.set_template_("Dear {{given_name}} {{family_name}}");
  v1::PreviewSegmentMessagesResponse previewed;
  ASSERT_TRUE(
      env_->stub().PreviewSegmentMessages(AuthedContext(token_).get(), preview, &previewed).ok());
  ASSERT_EQ(previewed.messages_size(), 7);
  EXPECT_EQ(previewed.messages(0).text(), "Dear Customer0 Doe");
  preview.set_template_("Dear {{nickname}}");
  grpc::Status status =
      env_->stub().PreviewSegmentMessages(AuthedContext(token_).get(), preview, &previewed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("unknown field 'nickname'"));

  // A segment with a bad filter is refused when saved.
  create.mutable_segment()->set_filter("colour = red");
  EXPECT_EQ(env_->stub().CreateSegment(AuthedContext(token_).get(), create, &segment).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsFeaturesTest, ChangesAppearOnTheEventStreamWithChangedFields) {
  Contact x = Create(Person("Ev", "Ent", "ev@x.example"));
  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(x.name());
  update.mutable_contact()->set_job_title("CTO");
  update.mutable_contact()->set_owner("bob");
  v1::Contact updated;
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(token_).get(), update, &updated).ok());

  // The stream is the service identity's, across tenants: this tenant's events are the test's.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + crm::testing::MintServiceToken());
  crm::common::v1::SubscribeRequest request;
  auto reader = env_->events_stub().Subscribe(&context, request);
  std::vector<std::string> types;
  crm::common::v1::Event event;
  while (types.size() < 3 && reader->Read(&event)) {
    if (event.tenant() != tenant_) continue;
    types.push_back(event.event_type());
    if (event.event_type() == "crm.contacts.v1.ContactUpdated") {
      v1::ContactUpdated payload;
      ASSERT_TRUE(event.payload().UnpackTo(&payload));
      EXPECT_THAT(payload.changed_fields(), UnorderedElementsAre("job_title", "owner"));
      EXPECT_EQ(payload.contact().etag(), updated.etag());
      // Before and after: the previous values of the changed fields only.
      EXPECT_EQ(payload.previous().job_title(), "");
      EXPECT_EQ(payload.previous().owner(), x.owner());
      EXPECT_EQ(payload.previous().given_name(), "");
      EXPECT_EQ(payload.contact().job_title(), "CTO");
    }
  }
  context.TryCancel();
  EXPECT_THAT(types, ElementsAre("crm.contacts.v1.ContactCreated", "crm.contacts.v1.ContactUpdated",
                                 "crm.contacts.v1.ContactOwnerChanged"));
}

// The plan of the list's first page, planned as the service plans it: the store's statement, run
// the way ListContacts runs it, on the service's pool (its role, row-level security on).
std::string ListPlan(testing::ContactsTestEnv& env, const std::string& tenant,
                     const std::string& table, const char* columns) {
  auto r = db::RunOnceInIndexOrder(
      env.pool(), tenant, absl::StrCat("EXPLAIN ", ListLiveSql(table, columns, "", Page{})),
      {tenant, db::Param(), "21"}, absl::Now() + absl::Seconds(10));
  if (!r.ok()) return r.status().ToString();
  std::string plan;
  for (int i = 0; i < r->rows(); ++i) absl::StrAppend(&plan, r->Text(i, 0), "\n");
  return plan;
}

// A tenant filled since the last ANALYZE (or before the first one) is estimated at a row or two;
// the list must still read the primary key in id order and stop after the page, not read the whole
// tenant through another index and sort it (26,000 contacts: 58 lists/s instead of 2,794).
TEST_F(ContactsFeaturesTest, ListPlansReadThePrimaryKeyWhateverTheStatisticsSay) {
  auto admin = db::Connection::Open(env_->database().ConnInfo("postgres"), absl::Seconds(5));
  ASSERT_OK(admin.status());
  // The test decides when statistics exist: none from autovacuum.
  ASSERT_OK(
      (*admin)->ExecScript("ALTER TABLE contacts.contacts SET (autovacuum_enabled = off);"
                           "ALTER TABLE contacts.companies SET (autovacuum_enabled = off);"
                           "ANALYZE contacts.contacts; ANALYZE contacts.companies;"));
  // A bulk fill the statistics have never seen.
  ASSERT_OK((*admin)->ExecScript(absl::StrCat(
      "INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, emails, owner, "
      "creator, search_text) SELECT '",
      tenant_,
      "', gen_random_uuid(), 'Given' || i, 'Family' || i, "
      "ARRAY['p' || i || '@plan.example'], 'alice', 'alice', 'Given' || i || ' Family' || i "
      "FROM generate_series(1, 5000) i;"
      "INSERT INTO contacts.companies (tenant_id, id, display_name, owner, creator) SELECT '",
      tenant_,
      "', gen_random_uuid(), 'Company ' || i, 'alice', 'alice' "
      "FROM generate_series(1, 5000) i;")));
  for (const char* statistics : {"stale", "none"}) {
    if (std::string(statistics) == "none") {
      ASSERT_OK((*admin)->ExecScript(
          "DELETE FROM pg_statistic WHERE starelid IN ('contacts.contacts'::regclass, "
          "'contacts.companies'::regclass);"
          "UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid IN "
          "('contacts.contacts'::regclass, 'contacts.companies'::regclass);"));
    }
    const std::string contacts = ListPlan(*env_, tenant_, "contacts.contacts", kContactColumns);
    EXPECT_THAT(contacts, HasSubstr("contacts_pkey")) << statistics << "\n" << contacts;
    EXPECT_THAT(contacts, Not(HasSubstr("Sort"))) << statistics << "\n" << contacts;
    const std::string companies = ListPlan(*env_, tenant_, "contacts.companies", kCompanyColumns);
    EXPECT_THAT(companies, HasSubstr("companies_pkey")) << statistics << "\n" << companies;
    EXPECT_THAT(companies, Not(HasSubstr("Sort"))) << statistics << "\n" << companies;
  }
  // And the page itself: the first 20 in id order, with more to come.
  v1::ListContactsRequest request;
  request.set_page_size(20);
  v1::ListContactsResponse response;
  grpc::Status status = env_->stub().ListContacts(AuthedContext(token_).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.contacts_size(), 20);
  EXPECT_FALSE(response.next_page_token().empty());
  for (int i = 1; i < response.contacts_size(); ++i)
    EXPECT_LT(response.contacts(i - 1).name(), response.contacts(i).name());
  ASSERT_OK(
      (*admin)->ExecScript("ALTER TABLE contacts.contacts RESET (autovacuum_enabled);"
                           "ALTER TABLE contacts.companies RESET (autovacuum_enabled);"));
}

}  // namespace
}  // namespace crm::contacts
