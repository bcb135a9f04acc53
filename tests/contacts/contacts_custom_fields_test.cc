// Custom fields of contacts against a real PostgreSQL: definitions (admins only, per tenant),
// typed values validated on create and update, archive and delete, and writes that meet
// definitions changed by another replica.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/db/sql_helpers.h"
#include "common/fields/custom_field_rules.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/status_matchers.h"
#include "tests/contacts/contacts_test_env.h"

namespace crm::contacts {
namespace {

using common::v1::CustomFieldDefinition;
using crm::testing::AuthedContext;
using crm::testing::MintToken;
using ::testing::HasSubstr;
using v1::Contact;

class ContactsCustomFieldsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::ContactsTestEnv::Start().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    tenant_ = "t" + ids::NewUuidV7().substr(24);
    admin_ = MintToken(tenant_, "ada", {"admin"});
    rep_ = MintToken(tenant_, "rex", {"rep"});
  }

  grpc::Status Define(const CustomFieldDefinition& field, CustomFieldDefinition* out,
                      const std::string& token = "") {
    common::v1::CreateCustomFieldRequest request;
    request.set_parent("objectTypes/contact");
    *request.mutable_custom_field() = field;
    return env_->stub().CreateCustomField(AuthedContext(token.empty() ? admin_ : token).get(),
                                          request, out);
  }

  CustomFieldDefinition MustDefine(const CustomFieldDefinition& field) {
    CustomFieldDefinition out;
    grpc::Status status = Define(field, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  static CustomFieldDefinition Field(const std::string& key, common::v1::CustomFieldType type) {
    CustomFieldDefinition d;
    d.set_key(key);
    d.set_label(key);
    d.set_type(type);
    return d;
  }

  grpc::Status Create(const Contact& contact, Contact* out) {
    v1::CreateContactRequest request;
    *request.mutable_contact() = contact;
    return env_->stub().CreateContact(AuthedContext(rep_).get(), request, out);
  }

  Contact Get(const std::string& name) {
    v1::GetContactRequest request;
    request.set_name(name);
    Contact out;
    grpc::Status status = env_->stub().GetContact(AuthedContext(rep_).get(), request, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  // The given names of the contacts ListContacts returns for `filter`, sorted.
  std::vector<std::string> Listed(const std::string& filter) {
    v1::ListContactsRequest request;
    request.set_filter(filter);
    v1::ListContactsResponse response;
    grpc::Status status = env_->stub().ListContacts(AuthedContext(rep_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << filter << ": " << status.error_message();
    std::vector<std::string> out;
    for (const auto& c : response.contacts()) out.push_back(c.given_name());
    std::sort(out.begin(), out.end());
    return out;
  }

  int64_t CountContacts() {
    auto r = db::RunOnce(env_->pool(), tenant_,
                         "SELECT count(*) FROM contacts.contacts WHERE tenant_id = $1", {tenant_},
                         absl::Now() + absl::Seconds(10));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->Int(0, 0) : -1;
  }

  static Contact Person(const std::string& given) {
    Contact c;
    c.set_given_name(given);
    return c;
  }

  static testing::ContactsTestEnv* env_;
  std::string tenant_;
  std::string admin_;
  std::string rep_;
};

testing::ContactsTestEnv* ContactsCustomFieldsTest::env_ = nullptr;

TEST_F(ContactsCustomFieldsTest, AdminsDefineFieldsPerTenantAndMembersReadThem) {
  CustomFieldDefinition tier = Field("tier", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  tier.set_label("Կարգ");  // labels in any script
  tier.add_options()->set_label("Gold");
  tier.add_options()->set_label("Silver");
  CustomFieldDefinition out;
  EXPECT_EQ(Define(tier, &out, rep_).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const CustomFieldDefinition created = MustDefine(tier);
  EXPECT_EQ(created.name(), "objectTypes/contact/customFields/tier");
  EXPECT_EQ(created.options(0).id(), "gold");
  EXPECT_EQ(created.etag(), "1");
  EXPECT_EQ(Define(tier, &out).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  common::v1::ListCustomFieldsRequest list;
  list.set_parent("objectTypes/contact");
  common::v1::ListCustomFieldsResponse listed;
  ASSERT_TRUE(env_->stub().ListCustomFields(AuthedContext(rep_).get(), list, &listed).ok());
  ASSERT_EQ(listed.custom_fields_size(), 1);
  EXPECT_EQ(listed.custom_fields(0).label(), "Կարգ");

  // Another tenant sees none of it.
  const std::string other = MintToken("t-other-" + tenant_, "ada", {"admin"});
  ASSERT_TRUE(env_->stub().ListCustomFields(AuthedContext(other).get(), list, &listed).ok());
  EXPECT_EQ(listed.custom_fields_size(), 0);
  common::v1::GetCustomFieldRequest get;
  get.set_name(created.name());
  EXPECT_EQ(env_->stub().GetCustomField(AuthedContext(other).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  list.set_parent("objectTypes/deal");
  EXPECT_EQ(env_->stub().ListCustomFields(AuthedContext(rep_).get(), list, &listed).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// The holder a unique conflict names (its google.rpc.ResourceInfo), "" when there is none.
std::string HolderOf(const grpc::Status& status) {
  google::rpc::ResourceInfo info;
  if (!api::GetDetail(api::FromGrpcStatus(status), &info)) return "";
  return info.resource_name();
}

TEST_F(ContactsCustomFieldsTest, UniqueValuesBelongToOneRecordUntilItLetsGo) {
  CustomFieldDefinition external_id = Field("external_id", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  external_id.set_unique(true);
  MustDefine(external_id);
  CustomFieldDefinition billing = Field("billing_email", common::v1::CUSTOM_FIELD_TYPE_EMAIL);
  billing.set_unique(true);
  MustDefine(billing);

  Contact first = Person("Ann");
  (*first.mutable_custom_fields())["external_id"].set_text("ERP-1");
  (*first.mutable_custom_fields())["billing_email"].set_email("Pay@Example.com");
  Contact held;
  ASSERT_TRUE(Create(first, &held).ok());
  const int64_t before = CountContacts();

  // The same value, or the same address in other letter case: refused, naming the holder.
  Contact second = Person("Bob");
  (*second.mutable_custom_fields())["external_id"].set_text("ERP-1");
  Contact out;
  grpc::Status status = Create(second, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_EQ(HolderOf(status), held.name());
  EXPECT_THAT(status.error_message(), HasSubstr("contact.custom_fields.external_id"));
  (*second.mutable_custom_fields())["external_id"].set_text("ERP-2");
  (*second.mutable_custom_fields())["billing_email"].set_email("pay@example.COM");
  status = Create(second, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("billing_email"));
  EXPECT_EQ(CountContacts(), before);  // nothing half-written

  // Values are per tenant.
  const std::string other_rep = MintToken("t-other-" + tenant_, "rex", {"rep"});
  {
    common::v1::CreateCustomFieldRequest define;
    define.set_parent("objectTypes/contact");
    *define.mutable_custom_field() = external_id;
    CustomFieldDefinition defined;
    ASSERT_TRUE(env_->stub()
                    .CreateCustomField(
                        AuthedContext(MintToken("t-other-" + tenant_, "ada", {"admin"})).get(),
                        define, &defined)
                    .ok());
    v1::CreateContactRequest create;
    *create.mutable_contact() = first;
    create.mutable_contact()->mutable_custom_fields()->erase("billing_email");
    status = env_->stub().CreateContact(AuthedContext(other_rep).get(), create, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // An update that takes a held value is refused and changes nothing; keeping one's own is fine.
  second.mutable_custom_fields()->erase("billing_email");
  Contact bob;
  ASSERT_TRUE(Create(second, &bob).ok());
  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(bob.name());
  (*update.mutable_contact()->mutable_custom_fields())["external_id"].set_text("ERP-1");
  update.mutable_update_mask()->add_paths("custom_fields.external_id");
  status = env_->stub().UpdateContact(AuthedContext(rep_).get(), update, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_EQ(HolderOf(status), held.name());
  EXPECT_EQ(Get(bob.name()).custom_fields().at("external_id").text(), "ERP-2");
  v1::UpdateContactRequest rename;
  rename.mutable_contact()->set_name(held.name());
  rename.mutable_contact()->set_given_name("Anna");
  (*rename.mutable_contact()->mutable_custom_fields())["external_id"].set_text("ERP-1");
  rename.mutable_update_mask()->add_paths("given_name");
  rename.mutable_update_mask()->add_paths("custom_fields.external_id");
  status = env_->stub().UpdateContact(AuthedContext(rep_).get(), rename, &out);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Moving off a value frees it; so does deleting the holder.
  (*update.mutable_contact()->mutable_custom_fields())["external_id"].set_text("ERP-3");
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(rep_).get(), update, &out).ok());
  Contact third = Person("Cy");
  (*third.mutable_custom_fields())["external_id"].set_text("ERP-2");
  ASSERT_TRUE(Create(third, &out).ok());
  v1::DeleteContactRequest remove;
  remove.set_name(held.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(env_->stub().DeleteContact(AuthedContext(rep_).get(), remove, &empty).ok());
  (*third.mutable_custom_fields())["external_id"].set_text("ERP-1");
  (*third.mutable_custom_fields())["billing_email"].set_email("pay@example.com");
  status = Create(third, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();

  // Exact matches on unique fields are answered from the claims and agree with the values: the
  // holder only (two Cys now: ERP-2 and ERP-1), in OR and beside other conditions.
  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  const std::string second_cy = out.name();
  v1::ListContactsRequest exact;
  exact.set_filter("custom_fields.external_id = \"ERP-1\"");
  v1::ListContactsResponse listed;
  ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(rep_).get(), exact, &listed).ok());
  ASSERT_EQ(listed.contacts_size(), 1);
  EXPECT_EQ(listed.contacts(0).name(), second_cy);
  EXPECT_THAT(Listed("custom_fields.external_id = \"ERP-2\""), ElementsAre("Cy"));
  EXPECT_THAT(Listed("custom_fields.external_id = \"ERP-9\""), IsEmpty());
  EXPECT_THAT(Listed("custom_fields.external_id = \"ERP-3\" OR "
                     "custom_fields.external_id = \"ERP-1\""),
              ElementsAre("Bob", "Cy"));
  EXPECT_THAT(Listed("custom_fields.external_id = \"ERP-1\" AND given_name = \"Bob\""), IsEmpty());
  EXPECT_THAT(Listed("custom_fields.billing_email = \"pay@example.com\""), ElementsAre("Cy"));
  EXPECT_THAT(Listed("custom_fields.external_id = ERP*"), ElementsAre("Bob", "Cy", "Cy"));
}

TEST_F(ContactsCustomFieldsTest, ConcurrentCreatesOfOneUniqueValueLeaveOneHolder) {
  CustomFieldDefinition external_id = Field("external_id", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  external_id.set_unique(true);
  MustDefine(external_id);
  constexpr int kThreads = 8;
  std::vector<grpc::Status> statuses(kThreads);
  std::vector<Contact> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      Contact c = Person(absl::StrCat("Racer", i));
      (*c.mutable_custom_fields())["external_id"].set_text("SAME");
      statuses[i] = Create(c, &results[i]);
    });
  }
  for (auto& t : threads) t.join();
  std::string winner;
  int created = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (!statuses[i].ok()) continue;
    ++created;
    winner = results[i].name();
  }
  ASSERT_EQ(created, 1);
  for (int i = 0; i < kThreads; ++i) {
    if (statuses[i].ok()) continue;
    EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::ALREADY_EXISTS)
        << statuses[i].error_message();
    EXPECT_EQ(HolderOf(statuses[i]), winner);
  }
  EXPECT_EQ(CountContacts(), 1);
}

TEST_F(ContactsCustomFieldsTest, AMergedLoserHandsItsValuesToTheWinner) {
  CustomFieldDefinition external_id = Field("external_id", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  external_id.set_unique(true);
  MustDefine(external_id);
  MustDefine(Field("region", common::v1::CUSTOM_FIELD_TYPE_TEXT));
  Contact winner_in = Person("Win");
  (*winner_in.mutable_custom_fields())["region"].set_text("EU");
  Contact loser_in = Person("Lou");
  (*loser_in.mutable_custom_fields())["region"].set_text("US");
  (*loser_in.mutable_custom_fields())["external_id"].set_text("ERP-9");
  Contact winner, loser;
  ASSERT_TRUE(Create(winner_in, &winner).ok());
  ASSERT_TRUE(Create(loser_in, &loser).ok());
  v1::MergeContactsRequest merge;
  merge.set_winner(winner.name());
  merge.set_loser(loser.name());
  Contact merged;
  grpc::Status status = env_->stub().MergeContacts(AuthedContext(rep_).get(), merge, &merged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(merged.custom_fields().at("region").text(), "EU");  // the winner's value stays
  EXPECT_EQ(merged.custom_fields().at("external_id").text(), "ERP-9");
  // The value still has one holder: now the winner.
  Contact again = Person("Again");
  (*again.mutable_custom_fields())["external_id"].set_text("ERP-9");
  Contact out;
  status = Create(again, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_EQ(HolderOf(status), winner.name());
}

TEST_F(ContactsCustomFieldsTest, UniqueFieldsTakeOnlyComparableTypesAndStayOutOfImports) {
  CustomFieldDefinition flag = Field("flag", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN);
  flag.set_unique(true);
  CustomFieldDefinition out;
  grpc::Status status = Define(flag, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("custom_field.unique"));
  CustomFieldDefinition external_id = Field("external_id", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  external_id.set_unique(true);
  const CustomFieldDefinition defined = MustDefine(external_id);
  // unique is fixed at creation: an update cannot turn it off.
  common::v1::UpdateCustomFieldRequest update;
  update.mutable_custom_field()->set_name(defined.name());
  update.mutable_update_mask()->add_paths("unique");
  EXPECT_EQ(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), update, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(fields::CanImport(defined).ok());
}

TEST_F(ContactsCustomFieldsTest, ValuesAreTypedValidatedAndNothingHalfWritten) {
  CustomFieldDefinition arr = Field("arr", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  arr.set_scale(2);
  MustDefine(arr);
  CustomFieldDefinition source = Field("source", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  source.mutable_default_value()->set_text("web");
  MustDefine(source);
  CustomFieldDefinition mobile = Field("mobile", common::v1::CUSTOM_FIELD_TYPE_PHONE);
  MustDefine(mobile);

  Contact anna = Person("Anna");
  (*anna.mutable_custom_fields())["arr"].set_number("001200.50");
  (*anna.mutable_custom_fields())["mobile"].set_phone("+374 10 123456");
  Contact created;
  grpc::Status status = Create(anna, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.custom_fields().at("arr").number(), "1200.50");
  EXPECT_EQ(created.custom_fields().at("source").text(), "web");
  const Contact read = Get(created.name());
  EXPECT_EQ(read.custom_fields().at("arr").number(), "1200.50");
  EXPECT_EQ(read.custom_fields().at("mobile").phone(), "+37410123456");

  const int64_t before = CountContacts();
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"arr", "12.345"}, {"nope", "1"}}) {
    Contact bad = Person("Bad");
    (*bad.mutable_custom_fields())[key].set_number(value);
    Contact out;
    status = Create(bad, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << key;
    google::rpc::BadRequest bad_request;
    ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(status), &bad_request)) << key;
    EXPECT_EQ(bad_request.field_violations(0).field(), "contact.custom_fields." + key);
  }
  EXPECT_EQ(CountContacts(), before);
}

TEST_F(ContactsCustomFieldsTest, UpdateMaskChangesOneFieldAndRequiredFieldsStay) {
  MustDefine(Field("notes", common::v1::CUSTOM_FIELD_TYPE_LONG_TEXT));
  CustomFieldDefinition region = Field("region", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  region.set_required(true);
  MustDefine(region);
  Contact c = Person("Ben");
  Contact created;
  EXPECT_EQ(Create(c, &created).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  (*c.mutable_custom_fields())["region"].set_text("EU");
  (*c.mutable_custom_fields())["notes"].set_text("first line\nsecond line");
  ASSERT_TRUE(Create(c, &created).ok());

  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(created.name());
  (*update.mutable_contact()->mutable_custom_fields())["region"].set_text("APAC");
  update.mutable_update_mask()->add_paths("custom_fields.region");
  Contact updated;
  grpc::Status status = env_->stub().UpdateContact(AuthedContext(rep_).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.custom_fields().at("region").text(), "APAC");
  EXPECT_EQ(updated.custom_fields().at("notes").text(), "first line\nsecond line");

  // Clearing a required field through the mask is refused.
  update.mutable_contact()->clear_custom_fields();
  EXPECT_EQ(env_->stub().UpdateContact(AuthedContext(rep_).get(), update, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Get(created.name()).custom_fields().at("region").text(), "APAC");
}

TEST_F(ContactsCustomFieldsTest, SearchFindsCustomTextUntilTheValueOrItsFieldIsGone) {
  const CustomFieldDefinition alias =
      MustDefine(Field("alias", common::v1::CUSTOM_FIELD_TYPE_TEXT));
  MustDefine(Field("billing", common::v1::CUSTOM_FIELD_TYPE_EMAIL));
  Contact c = Person("Diego");
  (*c.mutable_custom_fields())["alias"].set_text("Zorrofox");
  (*c.mutable_custom_fields())["billing"].set_email("ledger@quixotic.example");
  Contact created;
  ASSERT_TRUE(Create(c, &created).ok());
  auto found = [&](const std::string& query) {
    v1::SearchContactsRequest request;
    request.set_query(query);
    v1::SearchContactsResponse response;
    grpc::Status status =
        env_->stub().SearchContacts(AuthedContext(rep_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const auto& hit : response.results()) {
      if (hit.contact().name() == created.name()) return true;
    }
    return false;
  };
  EXPECT_TRUE(found("zorrofox"));
  EXPECT_TRUE(found("ledger@quixotic"));

  // A changed value is found by its new words only.
  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(created.name());
  (*update.mutable_contact()->mutable_custom_fields())["alias"].set_text("Quetzalwing");
  update.mutable_update_mask()->add_paths("custom_fields.alias");
  Contact updated;
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(rep_).get(), update, &updated).ok());
  EXPECT_TRUE(found("quetzalwing"));
  EXPECT_FALSE(found("zorrofox"));

  // Archiving hides the value from search too; deleting the field leaves nothing to find.
  common::v1::UpdateCustomFieldRequest archive;
  archive.mutable_custom_field()->set_name(alias.name());
  archive.mutable_custom_field()->set_archived(true);
  archive.mutable_update_mask()->add_paths("archived");
  CustomFieldDefinition archived;
  ASSERT_TRUE(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), archive, &archived).ok());
  EXPECT_FALSE(found("quetzalwing"));
  archive.mutable_custom_field()->set_archived(false);
  ASSERT_TRUE(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), archive, &archived).ok());
  EXPECT_TRUE(found("quetzalwing"));
  common::v1::DeleteCustomFieldRequest remove;
  remove.set_name(alias.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(env_->stub().DeleteCustomField(AuthedContext(admin_).get(), remove, &empty).ok());
  EXPECT_FALSE(found("quetzalwing"));
  EXPECT_TRUE(found("ledger@quixotic"));
}

TEST_F(ContactsCustomFieldsTest, ArchiveHidesValuesUnarchiveBringsThemBackDeletePurges) {
  const CustomFieldDefinition legacy =
      MustDefine(Field("legacy", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN));
  Contact c = Person("Cleo");
  (*c.mutable_custom_fields())["legacy"].set_boolean(true);
  Contact created;
  ASSERT_TRUE(Create(c, &created).ok());

  common::v1::UpdateCustomFieldRequest archive;
  archive.mutable_custom_field()->set_name(legacy.name());
  archive.mutable_custom_field()->set_archived(true);
  archive.mutable_update_mask()->add_paths("archived");
  CustomFieldDefinition archived;
  ASSERT_TRUE(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), archive, &archived).ok());
  EXPECT_TRUE(archived.archived());
  EXPECT_FALSE(Get(created.name()).custom_fields().contains("legacy"));
  Contact refused;
  EXPECT_EQ(Create(c, &refused).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  archive.mutable_custom_field()->set_archived(false);
  ASSERT_TRUE(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), archive, &archived).ok());
  EXPECT_TRUE(Get(created.name()).custom_fields().at("legacy").boolean());

  common::v1::DeleteCustomFieldRequest remove;
  remove.set_name(legacy.name());
  remove.set_etag("1");  // stale: the field is at 3 now
  google::protobuf::Empty empty;
  EXPECT_EQ(
      env_->stub().DeleteCustomField(AuthedContext(admin_).get(), remove, &empty).error_code(),
      grpc::StatusCode::ABORTED);
  remove.set_etag(archived.etag());
  ASSERT_TRUE(env_->stub().DeleteCustomField(AuthedContext(admin_).get(), remove, &empty).ok());
  EXPECT_FALSE(Get(created.name()).custom_fields().contains("legacy"));
}

TEST_F(ContactsCustomFieldsTest, RelationsNameLiveRecordsOfTheSameTenant) {
  CustomFieldDefinition referrer = Field("referrer", common::v1::CUSTOM_FIELD_TYPE_RELATION);
  referrer.set_relation_object(common::v1::OBJECT_TYPE_CONTACT);
  MustDefine(referrer);
  Contact first;
  ASSERT_TRUE(Create(Person("First"), &first).ok());
  Contact c = Person("Second");
  (*c.mutable_custom_fields())["referrer"].set_record(first.name());
  Contact created;
  ASSERT_TRUE(Create(c, &created).ok());

  // A contact of another tenant is not found, whatever its id.
  v1::CreateContactRequest elsewhere;
  elsewhere.mutable_contact()->set_given_name("Elsewhere");
  Contact foreign;
  ASSERT_TRUE(env_->stub()
                  .CreateContact(AuthedContext(MintToken("t-x-" + tenant_, "u", {"rep"})).get(),
                                 elsewhere, &foreign)
                  .ok());
  (*c.mutable_custom_fields())["referrer"].set_record(foreign.name());
  grpc::Status status = Create(c, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("contact.custom_fields.referrer"));
}

TEST_F(ContactsCustomFieldsTest, ListsAndSegmentsFilterOnCustomFieldsByType) {
  CustomFieldDefinition arr = Field("arr", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  arr.set_scale(2);
  MustDefine(arr);
  CustomFieldDefinition tier = Field("tier", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  tier.add_options()->set_label("Gold");
  tier.add_options()->set_label("Silver");
  MustDefine(tier);
  MustDefine(Field("vip", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN));
  CustomFieldDefinition markets = Field("markets", common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT);
  markets.add_options()->set_label("EU");
  markets.add_options()->set_label("US");
  MustDefine(markets);
  MustDefine(Field("budget", common::v1::CUSTOM_FIELD_TYPE_MONEY));

  auto make = [&](const std::string& name, const std::string& amount, const std::string& band,
                  bool vip, std::vector<std::string> market_ids, int64_t budget_minor) {
    Contact c = Person(name);
    auto& values = *c.mutable_custom_fields();
    values["arr"].set_number(amount);
    values["tier"].set_option(band);
    values["vip"].set_boolean(vip);
    for (auto& id : market_ids) values["markets"].mutable_options()->add_ids(id);
    values["budget"].mutable_money()->set_currency_code("EUR");
    values["budget"].mutable_money()->set_amount_minor(budget_minor);
    Contact out;
    grpc::Status status = Create(c, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
  };
  make("Low", "999.99", "silver", false, {"eu"}, 100);
  make("Mid", "1000.01", "gold", true, {"us"}, 200000);
  make("High", "25000", "gold", false, {"eu", "us"}, 5000000);
  Contact plain;
  ASSERT_TRUE(Create(Person("Plain"), &plain).ok());

  auto names = [&](const std::string& filter) { return Listed(filter); };
  using ::testing::ElementsAre;
  EXPECT_THAT(names("custom_fields.arr > 1000"), ElementsAre("High", "Mid"));
  EXPECT_THAT(names("custom_fields.arr > 1000 AND custom_fields.tier = gold"),
              ElementsAre("High", "Mid"));
  EXPECT_THAT(names("custom_fields.tier = Silver"), ElementsAre("Low"));  // by label too
  EXPECT_THAT(names("custom_fields.vip = true"), ElementsAre("Mid"));
  EXPECT_THAT(names("custom_fields.markets:eu"), ElementsAre("High", "Low"));
  EXPECT_THAT(names("custom_fields.budget.amount_minor >= 200000"), ElementsAre("High", "Mid"));
  EXPECT_THAT(names("NOT custom_fields.arr:*"), ElementsAre("Plain"));

  // order_by on custom and built-in fields, paged by offset with tokens bound to the order.
  auto ordered = [&](const std::string& order_by, int page_size) {
    std::vector<std::string> out;
    v1::ListContactsRequest request;
    request.set_order_by(order_by);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 10; ++pages) {
      v1::ListContactsResponse response;
      grpc::Status status =
          env_->stub().ListContacts(AuthedContext(rep_).get(), request, &response);
      EXPECT_TRUE(status.ok()) << order_by << ": " << status.error_message();
      for (const auto& c : response.contacts()) out.push_back(c.given_name());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  };
  EXPECT_THAT(ordered("custom_fields.arr desc", 2), ElementsAre("High", "Mid", "Low", "Plain"));
  EXPECT_THAT(ordered("custom_fields.arr", 3), ElementsAre("Low", "Mid", "High", "Plain"));
  EXPECT_THAT(ordered("given_name desc", 1), ElementsAre("Plain", "Mid", "Low", "High"));
  v1::ListContactsRequest first;
  first.set_order_by("given_name");
  first.set_page_size(1);
  v1::ListContactsResponse page;
  ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(rep_).get(), first, &page).ok());
  v1::ListContactsRequest switched;
  switched.set_order_by("given_name desc");
  switched.set_page_token(page.next_page_token());
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(rep_).get(), switched, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // a token is bound to its order
  switched.clear_page_token();
  switched.set_order_by("custom_fields.nope");
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(rep_).get(), switched, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListContactsRequest bad;
  bad.set_filter("custom_fields.arr > lots");
  v1::ListContactsResponse response;
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(rep_).get(), bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_filter("custom_fields.tier = platinum");
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(rep_).get(), bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::CreateSegmentRequest segment;
  segment.mutable_segment()->set_display_name("Big gold");
  segment.mutable_segment()->set_filter("custom_fields.tier = gold AND custom_fields.arr >= 25000");
  v1::Segment saved;
  grpc::Status status = env_->stub().CreateSegment(AuthedContext(rep_).get(), segment, &saved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::CountSegmentRequest count;
  count.set_name(saved.name());
  v1::CountSegmentResponse counted;
  ASSERT_TRUE(env_->stub().CountSegment(AuthedContext(rep_).get(), count, &counted).ok());
  EXPECT_EQ(counted.count(), 1);
  segment.mutable_segment()->set_filter("custom_fields.nope = 1");
  EXPECT_EQ(env_->stub().CreateSegment(AuthedContext(rep_).get(), segment, &saved).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsCustomFieldsTest, CompaniesHaveTheirOwnFields) {
  CustomFieldDefinition employees = Field("employees", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  common::v1::CreateCustomFieldRequest request;
  request.set_parent("objectTypes/company");
  *request.mutable_custom_field() = employees;
  CustomFieldDefinition made;
  grpc::Status status = env_->stub().CreateCustomField(AuthedContext(admin_).get(), request, &made);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(made.name(), "objectTypes/company/customFields/employees");
  EXPECT_EQ(made.object_type(), common::v1::OBJECT_TYPE_COMPANY);

  auto create = [&](const std::string& display_name, const std::string& size) {
    v1::CreateCompanyRequest create;
    create.mutable_company()->set_display_name(display_name);
    (*create.mutable_company()->mutable_custom_fields())["employees"].set_number(size);
    v1::Company out;
    return env_->stub().CreateCompany(AuthedContext(rep_).get(), create, &out);
  };
  ASSERT_TRUE(create("Small Co", "12").ok());
  ASSERT_TRUE(create("Big Co", "12000").ok());
  EXPECT_EQ(create("Bad Co", "many").error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::ListCompaniesRequest list;
  list.set_filter("custom_fields.employees >= 1000");
  v1::ListCompaniesResponse listed;
  status = env_->stub().ListCompanies(AuthedContext(rep_).get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.companies_size(), 1);
  EXPECT_EQ(listed.companies(0).display_name(), "Big Co");
  EXPECT_EQ(listed.companies(0).custom_fields().at("employees").number(), "12000");
  list.clear_filter();
  list.set_order_by("custom_fields.employees desc, display_name");
  status = env_->stub().ListCompanies(AuthedContext(rep_).get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.companies_size(), 2);
  EXPECT_EQ(listed.companies(0).display_name(), "Big Co");  // 12000 before 12, as numbers
  EXPECT_EQ(listed.companies(1).display_name(), "Small Co");

  // A company's field is not a contact's.
  Contact c = Person("Eve");
  (*c.mutable_custom_fields())["employees"].set_number("3");
  Contact out;
  EXPECT_EQ(Create(c, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsCustomFieldsTest, ImportsTypeCellsCheckRequiredFieldsAndFillDefaults) {
  CustomFieldDefinition region = Field("region", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  region.set_required(true);
  region.add_options()->set_label("EU");
  region.add_options()->set_label("APAC");
  MustDefine(region);
  CustomFieldDefinition vip = Field("vip", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN);
  vip.mutable_default_value()->set_boolean(false);
  MustDefine(vip);
  MustDefine(Field("budget", common::v1::CUSTOM_FIELD_TYPE_MONEY));

  auto import = [&](const std::string& csv, v1::ImportContactsResponse* response,
                    std::map<std::string, std::string> mapping = {}) {
    v1::ImportContactsFileRequest request;
    request.set_csv(csv);
    request.mutable_options()->set_import_id(ids::NewUuidV7());
    for (const auto& [header, field] : mapping) {
      (*request.mutable_options()->mutable_column_mapping())[header] = field;
    }
    return env_->stub().ImportContactsFile(AuthedContext(rep_).get(), request, response);
  };
  v1::ImportContactsResponse report;
  grpc::Status status = import(
      "email,custom_fields.region,Is VIP\n"
      "a@imp.example,eu,yes\n"     // by label, any case
      "b@imp.example,apac,\n"      // vip takes its default
      "c@imp.example,,no\n"        // region is required
      "d@imp.example,LATAM,no\n"   // not an option
      "e@imp.example,EU,maybe\n",  // not a boolean
      &report, {{"Is VIP", "custom_fields.vip"}});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.created(), 2);
  EXPECT_EQ(report.invalid(), 3);
  std::map<int64_t, std::string> errors;
  for (const auto& row : report.rows()) errors[row.line()] = row.error();
  EXPECT_THAT(errors[4], HasSubstr("custom_fields.region"));
  EXPECT_THAT(errors[5], HasSubstr("custom_fields.region"));
  EXPECT_THAT(errors[6], HasSubstr("custom_fields.vip"));

  v1::ListContactsRequest list;
  list.set_filter("custom_fields.vip = false AND custom_fields.region = apac");
  v1::ListContactsResponse listed;
  ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(rep_).get(), list, &listed).ok());
  ASSERT_EQ(listed.contacts_size(), 1);
  EXPECT_EQ(listed.contacts(0).emails(0), "b@imp.example");

  // A row that merges keeps the contact's values and adds what it lacks.
  status = import("email,custom_fields.region,custom_fields.vip\nb@imp.example,eu,true\n", &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.duplicates() + report.merged(), 1);
  ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(rep_).get(), list, &listed).ok());
  EXPECT_EQ(listed.contacts_size(), 1);

  // Money cells in the form exports write (minor units and currency, either order); a cell that
  // is not money is that row's error.
  status = import(
      "email,custom_fields.region,custom_fields.budget\n"
      "m1@imp.example,eu,125000 EUR\n"
      "m2@imp.example,eu,USD -300\n"
      "m3@imp.example,eu,12.50 EUR\n",
      &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.created(), 2);
  ASSERT_EQ(report.invalid(), 1);
  for (const auto& row : report.rows()) {
    if (row.line() == 4) {
      EXPECT_THAT(row.error(), HasSubstr("custom_fields.budget"));
    }
  }
  list.set_filter("custom_fields.budget.amount_minor >= 100000");
  ASSERT_TRUE(env_->stub().ListContacts(AuthedContext(rep_).get(), list, &listed).ok());
  ASSERT_EQ(listed.contacts_size(), 1);
  EXPECT_EQ(listed.contacts(0).custom_fields().at("budget").money().currency_code(), "EUR");

  // Columns naming no field, or a field the import cannot write yet (unique values), fail the
  // file up front.
  EXPECT_EQ(import("email,custom_fields.nope\nx@imp.example,1\n", &report).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  CustomFieldDefinition erp = Field("erp_id", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  erp.set_unique(true);
  MustDefine(erp);
  EXPECT_EQ(import("email,custom_fields.erp_id\nx@imp.example,E-1\n", &report).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsCustomFieldsTest, AWriteAgainstDefinitionsAnotherReplicaChangedIsCheckedAgain) {
  MustDefine(Field("score_band", common::v1::CUSTOM_FIELD_TYPE_TEXT));
  Contact c = Person("Dora");
  (*c.mutable_custom_fields())["score_band"].set_text("A");
  Contact created;
  ASSERT_TRUE(Create(c, &created).ok());  // this replica now caches the definitions

  // Another replica deletes the field: only the database knows.
  auto deleted = db::RunOnce(
      env_->pool(), tenant_,
      "WITH d AS (DELETE FROM contacts.custom_fields WHERE tenant_id = $1 AND key = 'score_band') "
      "UPDATE contacts.custom_field_versions SET version = version + 1 WHERE tenant_id = $1",
      {tenant_}, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(deleted.ok()) << deleted.status();

  grpc::Status status = Create(c, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("no custom field"));

  // And a field another replica made is filterable here at once.
  auto made = db::RunOnce(
      env_->pool(), tenant_,
      "WITH d AS (INSERT INTO contacts.custom_fields (tenant_id, object_type, key, definition, "
      "create_time, update_time) VALUES ($1, 'contact', 'fresh', "
      "'{\"label\":\"Fresh\",\"type\":\"CUSTOM_FIELD_TYPE_TEXT\"}', now(), now())) "
      "UPDATE contacts.custom_field_versions SET version = version + 1 WHERE tenant_id = $1",
      {tenant_}, absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(made.ok()) << made.status();
  v1::ListContactsRequest list;
  list.set_filter("custom_fields.fresh = \"x\"");
  v1::ListContactsResponse listed;
  status = env_->stub().ListContacts(AuthedContext(rep_).get(), list, &listed);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(ContactsCustomFieldsTest, SegmentExportsCarryAColumnPerLiveField) {
  CustomFieldDefinition tier = Field("tier", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  tier.add_options()->set_label("Gold");
  tier.add_options()->set_label("Silver");
  MustDefine(tier);
  MustDefine(Field("vip", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN));
  const CustomFieldDefinition old = MustDefine(Field("legacy", common::v1::CUSTOM_FIELD_TYPE_TEXT));
  common::v1::UpdateCustomFieldRequest archive;
  archive.mutable_custom_field()->set_name(old.name());
  archive.mutable_custom_field()->set_archived(true);
  archive.mutable_update_mask()->add_paths("archived");
  CustomFieldDefinition archived;
  ASSERT_TRUE(env_->stub().UpdateCustomField(AuthedContext(admin_).get(), archive, &archived).ok());
  Contact c = Person("Exported");
  (*c.mutable_custom_fields())["tier"].set_option("gold");
  (*c.mutable_custom_fields())["vip"].set_boolean(true);
  Contact created;
  ASSERT_TRUE(Create(c, &created).ok());
  ASSERT_TRUE(Create(Person("Bare"), &created).ok());

  v1::CreateSegmentRequest segment_request;
  segment_request.mutable_segment()->set_display_name("All");
  segment_request.mutable_segment()->set_filter(
      "given_name = \"Exported\" OR given_name = \"Bare\"");
  v1::Segment segment;
  grpc::Status status =
      env_->stub().CreateSegment(AuthedContext(rep_).get(), segment_request, &segment);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ExportSegmentRequest export_request;
  export_request.set_name(segment.name());
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + rep_);
  auto reader = env_->stub().ExportSegment(&context, export_request);
  std::string csv;
  v1::ExportChunk chunk;
  while (reader->Read(&chunk)) csv += chunk.data();
  ASSERT_TRUE(reader->Finish().ok());
  const std::string header = csv.substr(0, csv.find('\n'));
  EXPECT_THAT(header, HasSubstr("\"custom_fields.tier\",\"custom_fields.vip\""));
  EXPECT_THAT(header, ::testing::Not(HasSubstr("legacy")));  // archived: hidden
  EXPECT_THAT(csv, HasSubstr("\"gold\",\"true\""));
  EXPECT_THAT(csv, HasSubstr("\"\",\"\""));  // the bare contact's empty cells
}

}  // namespace
}  // namespace crm::contacts
