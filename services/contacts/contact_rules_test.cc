#include "services/contacts/contact_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/api/errors.h"
#include "common/auth/authenticator.h"
#include "common/testing/status_matchers.h"
#include "crm/contacts/v1/company.pb.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/contacts/v1/contacts_enums.pb.h"
#include "crm/contacts/v1/tenant_settings.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/rpc/error_details.pb.h"

namespace crm::contacts {
namespace {

using ::crm::contacts::v1::Company;
using ::crm::contacts::v1::Contact;
using ::crm::contacts::v1::LeadSource;
using ::crm::contacts::v1::LifecycleStage;
using ::crm::contacts::v1::TenantSettings;
using ::crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kPermissionDenied = absl::StatusCode::kPermissionDenied;
constexpr char kUuid[] = "0190c3d2-5b7e-7c1a-9f3e-1234567890ab";
constexpr char kRegion[] = "AM";

using ::crm::testing::InvalidField;

google::protobuf::FieldMask Mask(std::vector<std::string> paths) {
  google::protobuf::FieldMask mask;
  for (std::string& path : paths) mask.add_paths(std::move(path));
  return mask;
}

Contact NamedContact() {
  Contact contact;
  contact.set_given_name("Anna");
  return contact;
}

auth::Principal Rep(std::string user) {
  auth::Principal principal;
  principal.user = std::move(user);
  principal.tenant = "t1";
  principal.rep = true;
  return principal;
}

auth::Principal Manager(std::string user) {
  auth::Principal principal = Rep(std::move(user));
  principal.rep = false;
  principal.manager = true;
  return principal;
}

auth::Principal Admin(std::string user) {
  auth::Principal principal = Rep(std::move(user));
  principal.rep = false;
  principal.admin = true;
  return principal;
}

TenantSettings GoodSettings() {
  TenantSettings settings;
  settings.set_display_name("Acme Armenia");
  settings.set_default_phone_region("AM");
  settings.set_time_zone("Asia/Yerevan");
  settings.set_default_currency("AMD");
  settings.set_fiscal_year_start_month(1);
  settings.set_renewal_lead_days(30);
  return settings;
}

// Repeats a UTF-8 string `n` times.
std::string Repeat(absl::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) absl::StrAppend(&out, unit);
  return out;
}

// --- ParseResourceId ---

TEST(ParseResourceIdTest, ReturnsUuid) {
  absl::StatusOr<std::string> id =
      ParseResourceId(absl::StrCat("contacts/", kUuid), kContactPrefix, "name");
  ASSERT_OK(id);
  EXPECT_EQ(*id, kUuid);
  id = ParseResourceId(absl::StrCat("companies/", kUuid), kCompanyPrefix, "contact.company");
  ASSERT_OK(id);
  EXPECT_EQ(*id, kUuid);
}

TEST(ParseResourceIdTest, RejectsMalformedNamingTheField) {
  const std::vector<std::string> bad = {
      "",
      "contacts/",
      "contacts/not-a-uuid",
      kUuid,
      absl::StrCat("companies/", kUuid),
      absl::StrCat("Contacts/", kUuid),
      absl::StrCat("contacts/", "0190C3D2-5B7E-7C1A-9F3E-1234567890AB"),
      absl::StrCat("contacts/", kUuid, "/notes"),
      absl::StrCat("contacts//", kUuid),
      absl::StrCat(" contacts/", kUuid),
  };
  for (const std::string& name : bad) {
    SCOPED_TRACE(name);
    EXPECT_THAT(ParseResourceId(name, kContactPrefix, "contact.name"),
                InvalidField("contact.name"));
  }
}

// --- NormalizeContact ---

TEST(NormalizeContactTest, KeepsEmailsAsTypedButDeduplicatesByFoldedKey) {
  Contact contact;
  contact.add_emails("Anna@X.com");
  contact.add_emails("anna@x.com");
  contact.add_emails("  bob@example.am ");
  contact.add_emails("ANNA@X.COM");
  ASSERT_OK(NormalizeContact(contact, kRegion, "contact"));
  EXPECT_THAT(contact.emails(), ElementsAre("Anna@X.com", "bob@example.am"));
  EXPECT_THAT(EmailKeys(contact), ElementsAre("anna@x.com", "bob@example.am"));
}

TEST(NormalizeContactTest, EmailKeysFold) {
  Contact contact;
  contact.add_emails("Anna@Example.COM");
  contact.add_emails("Strauß@Example.de");
  contact.add_emails("ԱՆԻ@Example.am");
  EXPECT_THAT(EmailKeys(contact),
              ElementsAre("anna@example.com", "strauss@example.de", "անի@example.am"));
}

TEST(NormalizeContactTest, BadEmailNamesItsIndex) {
  Contact contact;
  contact.add_emails("good@example.com");
  contact.add_emails("not-an-email");
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.emails[1]"));
}

TEST(NormalizeContactTest, TooManyEmails) {
  Contact contact;
  for (int i = 0; i <= kMaxEmails; ++i) contact.add_emails(absl::StrCat("u", i, "@example.com"));
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.emails"));
}

TEST(NormalizeContactTest, PhonesToE164InRegion) {
  Contact contact;
  contact.add_phones("091 234567");
  contact.add_phones("+1 650-253-0000");
  contact.add_phones("+374 91 234 567");  // The first one again, written internationally.
  ASSERT_OK(NormalizeContact(contact, kRegion, "contact"));
  EXPECT_THAT(contact.phones(), ElementsAre("+37491234567", "+16502530000"));
}

TEST(NormalizeContactTest, BadSecondPhoneNamesIndexOne) {
  Contact contact;
  contact.add_phones("+37491234567");
  contact.add_phones("12");
  const absl::Status status = NormalizeContact(contact, kRegion, "contact");
  EXPECT_THAT(status, StatusIs(kInvalidArgument));
  EXPECT_THAT(status, InvalidField("contact.phones[1]"));
}

TEST(NormalizeContactTest, FieldPrefixIsUsedInPaths) {
  Contact contact;
  contact.add_phones("not a phone");
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contacts[3]"),
              InvalidField("contacts[3].phones[0]"));
}

TEST(NormalizeContactTest, TooManyPhones) {
  Contact contact;
  for (int i = 0; i <= kMaxPhones; ++i) contact.add_phones(absl::StrCat("+3749123456", i));
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.phones"));
}

TEST(NormalizeContactTest, NeedsNameEmailOrPhone) {
  Contact empty;
  EXPECT_THAT(NormalizeContact(empty, kRegion, "contact"), StatusIs(kInvalidArgument));

  Contact blank;
  blank.set_given_name("   ");
  blank.set_family_name("\t");
  blank.set_job_title("CEO");
  EXPECT_THAT(NormalizeContact(blank, kRegion, "contact"), InvalidField("contact.given_name"));

  Contact family_only;
  family_only.set_family_name("Petrosyan");
  EXPECT_OK(NormalizeContact(family_only, kRegion, "contact"));
  Contact email_only;
  email_only.add_emails("a@example.com");
  EXPECT_OK(NormalizeContact(email_only, kRegion, "contact"));
  Contact phone_only;
  phone_only.add_phones("+37491234567");
  EXPECT_OK(NormalizeContact(phone_only, kRegion, "contact"));
}

TEST(NormalizeContactTest, KeepsArmenianNames) {
  Contact contact;
  contact.set_given_name("  Անի ");
  contact.set_family_name("Հակոբյան");
  contact.set_job_title("Վաճառքի մենեջեր");
  ASSERT_OK(NormalizeContact(contact, kRegion, "contact"));
  EXPECT_EQ(contact.given_name(), "Անի");
  EXPECT_EQ(contact.family_name(), "Հակոբյան");
  EXPECT_EQ(contact.job_title(), "Վաճառքի մենեջեր");
}

TEST(NormalizeContactTest, NameLengthLimitCountsCharacters) {
  Contact ok = NamedContact();
  ok.set_given_name(Repeat("Ա", 200));  // 400 bytes, 200 characters.
  EXPECT_OK(NormalizeContact(ok, kRegion, "contact"));

  Contact too_long = NamedContact();
  too_long.set_given_name(std::string(201, 'a'));
  EXPECT_THAT(NormalizeContact(too_long, kRegion, "contact"), InvalidField("contact.given_name"));

  Contact family_too_long = NamedContact();
  family_too_long.set_family_name(Repeat("Բ", 201));
  EXPECT_THAT(NormalizeContact(family_too_long, kRegion, "contact"),
              InvalidField("contact.family_name"));
}

TEST(NormalizeContactTest, ControlCharactersInNameRejected) {
  Contact contact = NamedContact();
  contact.set_family_name("Pet\nrosyan");
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.family_name"));
}

TEST(NormalizeContactTest, TagsCleanedAndDeduplicatedInOrder) {
  Contact contact = NamedContact();
  contact.add_tags("vip");
  contact.add_tags(" hot ");
  contact.add_tags("vip ");
  contact.add_tags("Հայաստան");
  contact.add_tags("hot");
  ASSERT_OK(NormalizeContact(contact, kRegion, "contact"));
  EXPECT_THAT(contact.tags(), ElementsAre("vip", "hot", "Հայաստան"));
}

TEST(NormalizeContactTest, TooManyTags) {
  Contact contact = NamedContact();
  for (int i = 0; i <= kMaxTags; ++i) contact.add_tags(absl::StrCat("tag", i));
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.tags"));

  Contact at_limit = NamedContact();
  for (int i = 0; i < kMaxTags; ++i) at_limit.add_tags(absl::StrCat("tag", i));
  EXPECT_OK(NormalizeContact(at_limit, kRegion, "contact"));
}

TEST(NormalizeContactTest, EmptyOrLongTagNamesIndex) {
  Contact empty_tag = NamedContact();
  empty_tag.add_tags("ok");
  empty_tag.add_tags("  ");
  EXPECT_THAT(NormalizeContact(empty_tag, kRegion, "contact"), InvalidField("contact.tags[1]"));

  Contact long_tag = NamedContact();
  long_tag.add_tags(std::string(kMaxTagChars + 1, 't'));
  EXPECT_THAT(NormalizeContact(long_tag, kRegion, "contact"), InvalidField("contact.tags[0]"));
}

TEST(NormalizeContactTest, AttributeKeys) {
  Contact good = NamedContact();
  (*good.mutable_attributes())["crm.source-id_2"] = "x";
  (*good.mutable_attributes())["note"] = "Հայերեն տեքստ";
  EXPECT_OK(NormalizeContact(good, kRegion, "contact"));

  for (const std::string& key : {std::string("bad key"), std::string(""), std::string("ключ"),
                                 std::string("a/b"), std::string(kMaxAttributeKeyChars + 1, 'k')}) {
    SCOPED_TRACE(key);
    Contact contact = NamedContact();
    (*contact.mutable_attributes())[key] = "value";
    EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"),
                InvalidField(absl::StrCat("contact.attributes[", key.substr(0, 64), "]")));
  }
}

TEST(NormalizeContactTest, AttributeValueChecked) {
  Contact contact = NamedContact();
  (*contact.mutable_attributes())["note"] = std::string(kMaxAttributeValueChars + 1, 'v');
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"),
              InvalidField("contact.attributes[note]"));
}

TEST(NormalizeContactTest, CompanyMustBeCompanyName) {
  Contact good = NamedContact();
  good.set_company(absl::StrCat("companies/", kUuid));
  EXPECT_OK(NormalizeContact(good, kRegion, "contact"));

  Contact bad = NamedContact();
  bad.set_company(absl::StrCat("contacts/", kUuid));
  EXPECT_THAT(NormalizeContact(bad, kRegion, "contact"), InvalidField("contact.company"));
}

TEST(NormalizeContactTest, UnknownEnumValuesRejected) {
  Contact stage = NamedContact();
  stage.set_lifecycle_stage(static_cast<LifecycleStage>(99));
  EXPECT_THAT(NormalizeContact(stage, kRegion, "contact"), InvalidField("contact.lifecycle_stage"));

  Contact source = NamedContact();
  source.set_lead_source(static_cast<LeadSource>(-1));
  EXPECT_THAT(NormalizeContact(source, kRegion, "contact"), InvalidField("contact.lead_source"));
}

TEST(NormalizeContactTest, OwnerTooLong) {
  Contact contact = NamedContact();
  contact.set_owner(std::string(129, 'u'));
  EXPECT_THAT(NormalizeContact(contact, kRegion, "contact"), InvalidField("contact.owner"));
  contact.set_owner(std::string(128, 'u'));
  EXPECT_OK(NormalizeContact(contact, kRegion, "contact"));
}

// --- NormalizeCompany ---

TEST(NormalizeCompanyTest, NormalizesDomain) {
  Company company;
  company.set_display_name("  Acme ");
  company.set_domain("https://www.Acme.COM/about?x=1");
  ASSERT_OK(NormalizeCompany(company, "company"));
  EXPECT_EQ(company.domain(), "acme.com");
  EXPECT_EQ(company.display_name(), "Acme");
}

TEST(NormalizeCompanyTest, ArmenianDisplayNameAndNoDomain) {
  Company company;
  company.set_display_name("Արարատ ՍՊԸ");
  ASSERT_OK(NormalizeCompany(company, "company"));
  EXPECT_EQ(company.display_name(), "Արարատ ՍՊԸ");
  EXPECT_EQ(company.domain(), "");
}

TEST(NormalizeCompanyTest, MissingDisplayNameRejected) {
  Company missing;
  missing.set_domain("acme.com");
  EXPECT_THAT(NormalizeCompany(missing, "company"), InvalidField("company.display_name"));
  Company blank;
  blank.set_display_name(" \t ");
  EXPECT_THAT(NormalizeCompany(blank, "company"), InvalidField("company.display_name"));
}

TEST(NormalizeCompanyTest, BadDomainRejected) {
  Company company;
  company.set_display_name("Acme");
  company.set_domain("not a domain");
  EXPECT_THAT(NormalizeCompany(company, "company"), InvalidField("company.domain"));
  company.set_domain("192.168.0.1");
  EXPECT_THAT(NormalizeCompany(company, "company"), InvalidField("company.domain"));
}

TEST(NormalizeCompanyTest, TagsDeduplicated) {
  Company company;
  company.set_display_name("Acme");
  company.add_tags("b2b");
  company.add_tags("b2b");
  ASSERT_OK(NormalizeCompany(company, "company"));
  EXPECT_THAT(company.tags(), ElementsAre("b2b"));
}

// --- ValidateRequestId ---

TEST(ValidateRequestIdTest, AcceptsEmptyAndPrintableAscii) {
  EXPECT_OK(ValidateRequestId(""));
  EXPECT_OK(ValidateRequestId(kUuid));
  EXPECT_OK(ValidateRequestId("client-42:retry/1~!"));
  EXPECT_OK(ValidateRequestId(std::string(kMaxRequestIdChars, 'r')));
}

TEST(ValidateRequestIdTest, RejectsLongSpacesAndNonAscii) {
  for (const std::string& id :
       {std::string(kMaxRequestIdChars + 1, 'r'), std::string("has space"), std::string("tab\t"),
        std::string("Հ"), std::string("del\x7f"), std::string("nul\0x", 5)}) {
    SCOPED_TRACE(id);
    EXPECT_THAT(ValidateRequestId(id), InvalidField("request_id"));
  }
}

// --- ApplyContactMask ---

Contact FullTarget() {
  Contact target;
  target.set_name(absl::StrCat("contacts/", kUuid));
  target.set_given_name("Old");
  target.set_family_name("Family");
  target.add_emails("old@example.com");
  target.add_phones("+37491234567");
  target.set_job_title("CEO");
  target.set_owner("u1");
  target.set_lifecycle_stage(v1::LIFECYCLE_STAGE_LEAD);
  target.set_lead_source(v1::LEAD_SOURCE_WEBSITE);
  target.set_campaign("Spring");
  target.add_tags("old-tag");
  (*target.mutable_attributes())["old"] = "1";
  target.mutable_create_time()->set_seconds(1'700'000'000);
  target.set_etag("etag-1");
  target.set_creator("u0");
  return target;
}

TEST(ApplyContactMaskTest, OnlyMaskedFieldsChange) {
  Contact patch;
  patch.set_given_name("New");
  patch.set_family_name("Ignored");
  patch.add_emails("new@example.com");
  patch.set_etag("client-etag");
  Contact target = FullTarget();
  ASSERT_OK(ApplyContactMask(patch, Mask({"given_name"}), target));

  Contact expected = FullTarget();
  expected.set_given_name("New");
  EXPECT_EQ(target.SerializeAsString(), expected.SerializeAsString());
  EXPECT_EQ(target.given_name(), "New");
  EXPECT_EQ(target.family_name(), "Family");
  EXPECT_THAT(target.emails(), ElementsAre("old@example.com"));
  EXPECT_EQ(target.etag(), "etag-1");
}

TEST(ApplyContactMaskTest, RepeatedMapAndEnumFieldsAreReplaced) {
  Contact patch;
  patch.add_emails("a@example.com");
  patch.add_emails("b@example.com");
  patch.add_tags("new-tag");
  (*patch.mutable_attributes())["new"] = "2";
  patch.set_lifecycle_stage(v1::LIFECYCLE_STAGE_CUSTOMER);
  Contact target = FullTarget();
  ASSERT_OK(ApplyContactMask(
      patch, Mask({"emails", "tags", "attributes", "lifecycle_stage", "phones"}), target));
  EXPECT_THAT(target.emails(), ElementsAre("a@example.com", "b@example.com"));
  EXPECT_THAT(target.tags(), ElementsAre("new-tag"));
  EXPECT_THAT(target.attributes(), UnorderedElementsAre(Pair("new", "2")));
  EXPECT_EQ(target.lifecycle_stage(), v1::LIFECYCLE_STAGE_CUSTOMER);
  EXPECT_THAT(target.phones(), IsEmpty());  // Masked and empty in the patch: cleared.
  EXPECT_EQ(target.lead_source(), v1::LEAD_SOURCE_WEBSITE);  // Not masked.
  EXPECT_EQ(target.given_name(), "Old");
}

Contact FullPatchWithSomeFieldsSet() {
  Contact patch;
  patch.set_given_name("New");
  patch.add_emails("new@example.com");
  patch.set_owner("u2");
  patch.set_lead_source(v1::LEAD_SOURCE_REFERRAL);
  (*patch.mutable_attributes())["k"] = "v";
  patch.set_etag("client-etag");
  patch.set_name("contacts/other");
  patch.set_creator("intruder");
  return patch;
}

void ExpectOutputOnlyFieldsUntouched(const Contact& target) {
  EXPECT_EQ(target.name(), absl::StrCat("contacts/", kUuid));
  EXPECT_EQ(target.etag(), "etag-1");
  EXPECT_EQ(target.creator(), "u0");
  EXPECT_EQ(target.create_time().seconds(), 1'700'000'000);
}

TEST(ApplyContactMaskTest, EmptyMaskMeansTheFieldsSetInThePatch) {
  // AIP-134: without a mask only populated fields change; the rest keep their values.
  Contact target = FullTarget();
  const Contact before = target;
  ASSERT_OK(ApplyContactMask(FullPatchWithSomeFieldsSet(), Mask({}), target));
  EXPECT_EQ(target.given_name(), "New");
  EXPECT_THAT(target.emails(), ElementsAre("new@example.com"));
  EXPECT_EQ(target.owner(), "u2");
  EXPECT_EQ(target.lead_source(), v1::LEAD_SOURCE_REFERRAL);
  EXPECT_THAT(target.attributes(), UnorderedElementsAre(Pair("k", "v")));
  // Fields not set in the patch are kept, so an omitted owner is never cleared.
  EXPECT_EQ(target.family_name(), before.family_name());
  EXPECT_THAT(target.phones(), ElementsAreArray(before.phones()));
  EXPECT_EQ(target.company(), before.company());
  EXPECT_EQ(target.job_title(), before.job_title());
  EXPECT_EQ(target.lifecycle_stage(), before.lifecycle_stage());
  EXPECT_EQ(target.campaign(), before.campaign());
  EXPECT_THAT(target.tags(), ElementsAreArray(before.tags()));
  ExpectOutputOnlyFieldsUntouched(target);
}

TEST(ApplyContactMaskTest, StarMaskReplacesEveryWritableField) {
  Contact target = FullTarget();
  ASSERT_OK(ApplyContactMask(FullPatchWithSomeFieldsSet(), Mask({"*"}), target));
  // Every writable field now equals the patch, set or not.
  EXPECT_EQ(target.given_name(), "New");
  EXPECT_EQ(target.family_name(), "");
  EXPECT_THAT(target.emails(), ElementsAre("new@example.com"));
  EXPECT_THAT(target.phones(), IsEmpty());
  EXPECT_EQ(target.company(), "");
  EXPECT_EQ(target.job_title(), "");
  EXPECT_EQ(target.owner(), "u2");
  EXPECT_EQ(target.lifecycle_stage(), v1::LIFECYCLE_STAGE_UNSPECIFIED);
  EXPECT_EQ(target.lead_source(), v1::LEAD_SOURCE_REFERRAL);
  EXPECT_EQ(target.campaign(), "");
  EXPECT_THAT(target.tags(), IsEmpty());
  EXPECT_THAT(target.attributes(), UnorderedElementsAre(Pair("k", "v")));
  ExpectOutputOnlyFieldsUntouched(target);
}

TEST(ApplyContactMaskTest, ARejectedMaskLeavesTheTargetUnchanged) {
  Contact target = FullTarget();
  const Contact before = target;
  EXPECT_THAT(ApplyContactMask(FullPatchWithSomeFieldsSet(), Mask({"given_name", "etag"}), target),
              InvalidField("update_mask"));
  EXPECT_EQ(target.SerializeAsString(), before.SerializeAsString());
}

TEST(ApplyContactMaskTest, UnknownPathRejected) {
  Contact target = FullTarget();
  for (const std::string& path :
       {std::string("nickname"), std::string("given_name.first"), std::string("tags.k"),
        std::string("attributes."), std::string("GivenName"), std::string("")}) {
    SCOPED_TRACE(path);
    EXPECT_THAT(ApplyContactMask(Contact(), Mask({path}), target), InvalidField("update_mask"));
  }
}

// A writable map takes "<map>.<key>": that entry alone changes (custom fields, attributes).
TEST(ApplyContactMaskTest, MapEntryPathChangesOneEntry) {
  Contact target = FullTarget();
  (*target.mutable_attributes())["keep"] = "1";
  (*target.mutable_attributes())["k"] = "old";
  Contact patch;
  (*patch.mutable_attributes())["k"] = "new";
  ASSERT_OK(ApplyContactMask(patch, Mask({"attributes.k"}), target));
  EXPECT_EQ(target.attributes().at("k"), "new");
  EXPECT_EQ(target.attributes().at("keep"), "1");
  ASSERT_OK(ApplyContactMask(Contact(), Mask({"attributes.k"}), target));
  EXPECT_FALSE(target.attributes().contains("k"));
}

TEST(ApplyContactMaskTest, OutputOnlyPathRejected) {
  for (const char* path : {"etag", "create_time", "name", "update_time", "creator"}) {
    SCOPED_TRACE(path);
    Contact patch;
    patch.set_etag("forged");
    patch.set_name("contacts/forged");
    Contact target = FullTarget();
    EXPECT_THAT(ApplyContactMask(patch, Mask({path}), target), InvalidField("update_mask"));
    EXPECT_EQ(target.etag(), "etag-1");
    EXPECT_EQ(target.name(), absl::StrCat("contacts/", kUuid));
  }
}

// --- ApplyCompanyMask / ApplyTenantSettingsMask ---

TEST(ApplyCompanyMaskTest, OnlyMaskedFieldsChange) {
  Company patch;
  patch.set_display_name("New Name");
  patch.set_domain("new.com");
  Company target;
  target.set_display_name("Old Name");
  target.set_domain("old.com");
  target.set_etag("e1");
  ASSERT_OK(ApplyCompanyMask(patch, Mask({"domain"}), target));
  EXPECT_EQ(target.display_name(), "Old Name");
  EXPECT_EQ(target.domain(), "new.com");
  EXPECT_THAT(ApplyCompanyMask(patch, Mask({"etag"}), target), InvalidField("update_mask"));
  EXPECT_THAT(ApplyCompanyMask(patch, Mask({"emails"}), target), InvalidField("update_mask"));
}

TEST(ApplyTenantSettingsMaskTest, CopiesIntegerFields) {
  TenantSettings patch;
  patch.set_fiscal_year_start_month(4);
  patch.set_renewal_lead_days(90);
  patch.set_time_zone("Europe/Paris");
  TenantSettings target = GoodSettings();
  ASSERT_OK(ApplyTenantSettingsMask(patch, Mask({"fiscal_year_start_month", "renewal_lead_days"}),
                                    target));
  EXPECT_EQ(target.fiscal_year_start_month(), 4);
  EXPECT_EQ(target.renewal_lead_days(), 90);
  EXPECT_EQ(target.time_zone(), "Asia/Yerevan");
  EXPECT_THAT(ApplyTenantSettingsMask(patch, Mask({"name"}), target), InvalidField("update_mask"));
}

// --- Ownership ---

TEST(OwnershipTest, RepCreatesOnlyForThemselves) {
  EXPECT_OK(CheckCanCreateFor(Rep("u1"), "u1"));
  EXPECT_THAT(CheckCanCreateFor(Rep("u1"), "u2"), StatusIs(kPermissionDenied));
  EXPECT_THAT(CheckCanCreateFor(Rep("u1"), ""), StatusIs(kPermissionDenied));
}

TEST(OwnershipTest, RepChangesOnlyOwnAndCannotReassign) {
  EXPECT_OK(CheckCanChange(Rep("u1"), "u1", "u1"));
  EXPECT_THAT(CheckCanChange(Rep("u1"), "u2", "u2"), StatusIs(kPermissionDenied));
  EXPECT_THAT(CheckCanChange(Rep("u1"), "u1", "u2"), StatusIs(kPermissionDenied));
  EXPECT_THAT(CheckCanChange(Rep("u1"), "u2", "u1"), StatusIs(kPermissionDenied));
}

TEST(OwnershipTest, ManagerAndAdminMayDoAnything) {
  for (const auth::Principal& caller : {Manager("m1"), Admin("a1")}) {
    SCOPED_TRACE(caller.user);
    EXPECT_OK(CheckCanCreateFor(caller, "u2"));
    EXPECT_OK(CheckCanCreateFor(caller, caller.user));
    EXPECT_OK(CheckCanChange(caller, "u1", "u2"));
    EXPECT_OK(CheckCanChange(caller, "u1", "u1"));
    EXPECT_OK(CheckCanChange(caller, "u2", caller.user));
  }
}

TEST(OwnershipTest, NoRolesIsLikeRep) {
  auth::Principal nobody;
  nobody.user = "u1";
  nobody.tenant = "t1";
  EXPECT_OK(CheckCanChange(nobody, "u1", "u1"));
  EXPECT_THAT(CheckCanCreateFor(nobody, "u2"), StatusIs(kPermissionDenied));
  EXPECT_THAT(CheckCanChange(nobody, "u2", "u2"), StatusIs(kPermissionDenied));
}

// --- CheckEtag ---

TEST(CheckEtagTest, EmptyClientEtagSkipsCheck) { EXPECT_OK(CheckEtag("", "etag-1")); }

TEST(CheckEtagTest, MatchingEtagPasses) { EXPECT_OK(CheckEtag("etag-1", "etag-1")); }

TEST(CheckEtagTest, MismatchIsAborted) {
  EXPECT_THAT(CheckEtag("etag-1", "etag-2"), StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(CheckEtag("ETAG-1", "etag-1"), StatusIs(absl::StatusCode::kAborted));
}

// --- Enum text ---

TEST(EnumTextTest, LifecycleStageRoundTripsEveryValue) {
  const auto* descriptor = v1::LifecycleStage_descriptor();
  ASSERT_GT(descriptor->value_count(), 1);
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto stage = static_cast<LifecycleStage>(descriptor->value(i)->number());
    SCOPED_TRACE(descriptor->value(i)->name());
    const std::string text = LifecycleStageToText(stage);
    if (stage == v1::LIFECYCLE_STAGE_UNSPECIFIED) {
      EXPECT_EQ(text, "");
    } else {
      EXPECT_FALSE(text.empty());
      EXPECT_EQ(text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos);
    }
    EXPECT_EQ(LifecycleStageFromText(text), stage);
  }
}

TEST(EnumTextTest, LeadSourceRoundTripsEveryValue) {
  const auto* descriptor = v1::LeadSource_descriptor();
  ASSERT_GT(descriptor->value_count(), 1);
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto source = static_cast<LeadSource>(descriptor->value(i)->number());
    SCOPED_TRACE(descriptor->value(i)->name());
    const std::string text = LeadSourceToText(source);
    if (source == v1::LEAD_SOURCE_UNSPECIFIED) {
      EXPECT_EQ(text, "");
    } else {
      EXPECT_FALSE(text.empty());
      EXPECT_EQ(text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos);
    }
    EXPECT_EQ(LeadSourceFromText(text), source);
  }
}

TEST(EnumTextTest, KnownSpellings) {
  EXPECT_EQ(LifecycleStageToText(v1::LIFECYCLE_STAGE_LEAD), "lead");
  EXPECT_EQ(LifecycleStageToText(v1::LIFECYCLE_STAGE_PROSPECT), "prospect");
  EXPECT_EQ(LifecycleStageToText(v1::LIFECYCLE_STAGE_CUSTOMER), "customer");
  EXPECT_EQ(LifecycleStageToText(v1::LIFECYCLE_STAGE_CHURNED), "churned");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_EMAIL_MARKETING), "email_marketing");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_PAID_ADS), "paid_ads");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_SOCIAL_MEDIA), "social_media");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_REFERRAL), "referral");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_WEBSITE), "website");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_EVENT), "event");
  EXPECT_EQ(LeadSourceToText(v1::LEAD_SOURCE_OTHER), "other");
}

TEST(EnumTextTest, UnknownTextIsUnspecified) {
  EXPECT_EQ(LifecycleStageFromText("bogus"), v1::LIFECYCLE_STAGE_UNSPECIFIED);
  EXPECT_EQ(LifecycleStageFromText(""), v1::LIFECYCLE_STAGE_UNSPECIFIED);
  EXPECT_EQ(LeadSourceFromText("carrier_pigeon"), v1::LEAD_SOURCE_UNSPECIFIED);
  EXPECT_EQ(LeadSourceFromText(""), v1::LEAD_SOURCE_UNSPECIFIED);
  EXPECT_EQ(LifecycleStageToText(static_cast<LifecycleStage>(99)), "");
}

// --- ValidateTenantSettings ---

TEST(ValidateTenantSettingsTest, AcceptsGoodSettings) {
  EXPECT_OK(ValidateTenantSettings(GoodSettings()));
  TenantSettings us = GoodSettings();
  us.set_default_phone_region("US");
  us.set_time_zone("America/New_York");
  us.set_default_currency("USD");
  us.set_fiscal_year_start_month(12);
  us.set_renewal_lead_days(3650);
  EXPECT_OK(ValidateTenantSettings(us));
}

TEST(ValidateTenantSettingsTest, RejectsBadRegion) {
  for (const char* region : {"ZZ", "am", "", "ARM"}) {
    SCOPED_TRACE(region);
    TenantSettings settings = GoodSettings();
    settings.set_default_phone_region(region);
    EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.default_phone_region"));
  }
}

TEST(ValidateTenantSettingsTest, RejectsBadZone) {
  // File paths too: absl would read /etc/localtime or any other file as a zone.
  for (const char* zone :
       {"Mars/Olympus_Mons", "", "Asia/Yerevan ", "/etc/localtime", "../../../../etc/localtime",
        "Europe/../../../etc/localtime", "/usr/share/zoneinfo/UTC", "Asia//Yerevan", "UTC\n"}) {
    SCOPED_TRACE(zone);
    TenantSettings settings = GoodSettings();
    settings.set_time_zone(zone);
    EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.time_zone"));
  }
}

TEST(ValidateTenantSettingsTest, RejectsBadCurrency) {
  for (const char* currency : {"usd", "US", "USDT", "", "U$D"}) {
    SCOPED_TRACE(currency);
    TenantSettings settings = GoodSettings();
    settings.set_default_currency(currency);
    EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.default_currency"));
  }
}

TEST(ValidateTenantSettingsTest, RejectsBadMonth) {
  for (int month : {13, 0, -1}) {
    SCOPED_TRACE(month);
    TenantSettings settings = GoodSettings();
    settings.set_fiscal_year_start_month(month);
    EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.fiscal_year_start_month"));
  }
}

TEST(ValidateTenantSettingsTest, RejectsBadRenewalLeadDays) {
  for (int days : {-1, 3651}) {
    SCOPED_TRACE(days);
    TenantSettings settings = GoodSettings();
    settings.set_renewal_lead_days(days);
    EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.renewal_lead_days"));
  }
}

TEST(ValidateTenantSettingsTest, RejectsBadDisplayName) {
  TenantSettings settings = GoodSettings();
  settings.set_display_name(std::string(kMaxNameChars + 1, 'n'));
  EXPECT_THAT(ValidateTenantSettings(settings), InvalidField("settings.display_name"));
}

}  // namespace
}  // namespace crm::contacts
