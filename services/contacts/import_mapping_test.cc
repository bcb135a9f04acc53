#include "services/contacts/import_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/api/errors.h"
#include "common/testing/status_matchers.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/contacts/v1/contacts_enums.pb.h"
#include "google/rpc/error_details.pb.h"

namespace crm::contacts {
namespace {

using ::crm::contacts::v1::Contact;
using ::crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Cells = std::vector<std::string>;
using Mapping = std::map<std::string, std::string>;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;

// The BadRequest field violation carried by `status`, as "field: description".
std::string Violation(const absl::Status& status) {
  google::rpc::BadRequest bad_request;
  if (!api::GetDetail(status, &bad_request) || bad_request.field_violations_size() != 1) {
    return "no single field violation in " + status.ToString();
  }
  return bad_request.field_violations(0).field() + ": " +
         bad_request.field_violations(0).description();
}

ImportMapping MustMap(const Cells& header, const Mapping& explicit_mapping = {}) {
  absl::StatusOr<ImportMapping> mapping = MapHeader(header, explicit_mapping);
  EXPECT_OK(mapping);
  return mapping.ok() ? *mapping : ImportMapping{};
}

// Maps one data row under `header` with the default mapping.
Contact MustMapRow(const Cells& header, const Cells& fields) {
  absl::StatusOr<ImportedRow> row = MapRow(MustMap(header), header, fields);
  EXPECT_OK(row);
  return row.ok() ? row->contact : Contact();
}

// --- MapHeader ---

TEST(MapHeaderTest, MapsFieldNamesAndSynonyms) {
  const ImportMapping mapping =
      MustMap({"First Name", "Last name", "E-mail", "Mobile", "Title", "Organisation", "Source",
               "Notes", "lifecycle_stage", "tags", "attributes.region", "", "Phone Number"});
  EXPECT_THAT(
      mapping.column_fields,
      ElementsAre("given_name", "family_name", "email", "phone", "job_title", "company",
                  "lead_source", "", "lifecycle_stage", "tags", "attributes.region", "", "phone"));
  EXPECT_THAT(mapping.ignored_headers, ElementsAre("Notes"));
}

TEST(MapHeaderTest, MapsEveryListedSynonym) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"first name", "given_name"}, {"first_name", "given_name"}, {"given name", "given_name"},
      {"last name", "family_name"}, {"surname", "family_name"},   {"name", "full_name"},
      {"e-mail", "email"},          {"email address", "email"},   {"mobile", "phone"},
      {"telephone", "phone"},       {"phone number", "phone"},    {"title", "job_title"},
      {"organization", "company"},  {"organisation", "company"},  {"company name", "company"},
      {"source", "lead_source"},    {"full_name", "full_name"},   {"emails", "emails"},
      {"phones", "phones"},         {"owner", "owner"},           {"campaign", "campaign"},
      {"job_title", "job_title"},
  };
  for (const auto& [header, field] : cases) {
    SCOPED_TRACE(header);
    EXPECT_THAT(MustMap({header}).column_fields, ElementsAre(field));
  }
}

TEST(MapHeaderTest, IgnoresCaseSurroundingSpaceAndUnderscoresInHeaders) {
  EXPECT_THAT(
      MustMap({"  GIVEN  NAME ", "Family_Name", "LEAD SOURCE", "Attributes.Region "}).column_fields,
      ElementsAre("given_name", "family_name", "lead_source", "attributes.Region"));
}

TEST(MapHeaderTest, ExplicitMappingOverridesDefaults) {
  const ImportMapping mapping =
      MustMap({"Name", "Notes", "Title", "Email"},
              {{"Name", "given_name"}, {"notes", "attributes.notes"}, {"TITLE", ""}});
  EXPECT_THAT(mapping.column_fields, ElementsAre("given_name", "attributes.notes", "", "email"));
  EXPECT_THAT(mapping.ignored_headers, ElementsAre("Title"));
}

TEST(MapHeaderTest, ExplicitMappingAcceptsNonLatinHeaders) {
  const ImportMapping mapping =
      MustMap({"Անուն", "Ազգանուն", "Էլ. փոստ"},
              {{"Անուն", "given_name"}, {"Ազգանուն", " Family_Name "}, {"Էլ. փոստ", "emails"}});
  EXPECT_THAT(mapping.column_fields, ElementsAre("given_name", "family_name", "emails"));
  EXPECT_THAT(mapping.ignored_headers, IsEmpty());
}

TEST(MapHeaderTest, RejectsUnknownExplicitField) {
  const absl::StatusOr<ImportMapping> mapping = MapHeader({"Name", "Nick"}, {{"Nick", "nickname"}});
  EXPECT_THAT(mapping, StatusIs(kInvalidArgument));
  EXPECT_EQ(Violation(mapping.status()), "column_mapping[Nick]: unknown contact field 'nickname'");
}

TEST(MapHeaderTest, RejectsExplicitMappingOfAMissingColumn) {
  const absl::StatusOr<ImportMapping> mapping = MapHeader({"Name"}, {{"Nmae", "full_name"}});
  EXPECT_EQ(Violation(mapping.status()), "column_mapping[Nmae]: no column has this header");
}

TEST(MapHeaderTest, RejectsBadAttributeKeys) {
  EXPECT_EQ(Violation(MapHeader({"Notes"}, {{"Notes", "attributes."}}).status()),
            "column_mapping[Notes]: attribute keys are 1-64 characters of letters, digits, '_', "
            "'-', '.'");
  EXPECT_EQ(Violation(MapHeader({"attributes.favourite colour"}, {}).status()),
            "column_mapping[attributes.favourite colour]: attribute keys are 1-64 characters of "
            "letters, digits, '_', '-', '.'");
  EXPECT_THAT(MustMap({"attributes.favourite colour"},
                      {{"attributes.favourite colour", "attributes.colour"}})
                  .column_fields,
              ElementsAre("attributes.colour"));
}

TEST(MapHeaderTest, RejectsTwoColumnsForASingleValuedField) {
  EXPECT_EQ(Violation(MapHeader({"Title", "Job Title"}, {}).status()),
            "column_mapping[Job Title]: columns 'Title' and 'Job Title' both map to job_title; "
            "map one of them to \"\" to ignore it");
  EXPECT_THAT(MapHeader({"Region", "attributes.region"}, {{"Region", "attributes.region"}}),
              StatusIs(kInvalidArgument));
  EXPECT_THAT(MustMap({"Title", "Job Title"}, {{"Title", ""}}).column_fields,
              ElementsAre("", "job_title"));
}

TEST(MapHeaderTest, AllowsSeveralColumnsForListFields) {
  EXPECT_THAT(MustMap({"Email", "E-mail", "Phone", "Mobile", "Tags", "tags"}).column_fields,
              ElementsAre("email", "email", "phone", "phone", "tags", "tags"));
}

// --- MapRow ---

TEST(MapRowTest, BuildsContact) {
  const Cells header = {"First Name",  "Last Name", "Email", "Phone",
                        "Title",       "Company",   "Owner", "Lifecycle Stage",
                        "Lead Source", "Campaign",  "Tags",  "attributes.region"};
  const absl::StatusOr<ImportedRow> row =
      MapRow(MustMap(header), header,
             {"Անի", "Պետրոսյան", " Ani@Example.AM ", "+374 (91) 23-45-67", "CTO", "Acme LLC",
              "user-7", "customer", "Referral", "Spring webinar 2026", "vip; yerevan", "Yerevan"});
  ASSERT_OK(row);
  const Contact& contact = row->contact;
  EXPECT_EQ(contact.given_name(), "Անի");
  EXPECT_EQ(contact.family_name(), "Պետրոսյան");
  // Trimmed only: normalisation needs the tenant's settings.
  EXPECT_THAT(contact.emails(), ElementsAre("Ani@Example.AM"));
  EXPECT_THAT(contact.phones(), ElementsAre("+374 (91) 23-45-67"));
  EXPECT_EQ(contact.job_title(), "CTO");
  EXPECT_EQ(contact.company(), "");
  EXPECT_EQ(row->company_name, "Acme LLC");
  EXPECT_EQ(contact.owner(), "user-7");
  EXPECT_EQ(contact.lifecycle_stage(), v1::LIFECYCLE_STAGE_CUSTOMER);
  EXPECT_EQ(contact.lead_source(), v1::LEAD_SOURCE_REFERRAL);
  EXPECT_EQ(contact.campaign(), "Spring webinar 2026");
  EXPECT_THAT(contact.tags(), ElementsAre("vip", "yerevan"));
  EXPECT_THAT(contact.attributes(), UnorderedElementsAre(Pair("region", "Yerevan")));
}

TEST(MapRowTest, SplitsFullNameOnLastSpace) {
  EXPECT_EQ(MustMapRow({"Name"}, {"Anna Maria  Petrosyan"}).given_name(), "Anna Maria");
  EXPECT_EQ(MustMapRow({"Name"}, {"Anna Maria  Petrosyan"}).family_name(), "Petrosyan");
  EXPECT_EQ(MustMapRow({"Name"}, {"Անի Պետրոսյան"}).given_name(), "Անի");
  EXPECT_EQ(MustMapRow({"Name"}, {"Անի Պետրոսյան"}).family_name(), "Պետրոսյան");
  EXPECT_EQ(MustMapRow({"Name"}, {" Cher "}).given_name(), "Cher");
  EXPECT_EQ(MustMapRow({"Name"}, {" Cher "}).family_name(), "");
}

TEST(MapRowTest, FullNameOnlyFillsRowsWithoutGivenOrFamilyName) {
  const Cells header = {"Name", "First Name", "Last Name"};
  Contact contact = MustMapRow(header, {"Anna Petrosyan", "", "Smith"});
  EXPECT_EQ(contact.given_name(), "");
  EXPECT_EQ(contact.family_name(), "Smith");
  contact = MustMapRow(header, {"Anna Petrosyan", "", ""});
  EXPECT_EQ(contact.given_name(), "Anna");
  EXPECT_EQ(contact.family_name(), "Petrosyan");
}

TEST(MapRowTest, SplitsAndTrimsLists) {
  const Cells header = {"emails", "phones", "tags", "Email", "Mobile"};
  const Contact contact =
      MustMapRow(header, {"a@x.com; b@y.com,, c@z.com ;", "+374 91 000001,+374 91 000002",
                          " vip ;; lead , ", "d@w.com", "+1 555 0100;ext=7"});
  EXPECT_THAT(contact.emails(), ElementsAre("a@x.com", "b@y.com", "c@z.com", "d@w.com"));
  // A single-value column keeps the cell whole.
  EXPECT_THAT(contact.phones(),
              ElementsAre("+374 91 000001", "+374 91 000002", "+1 555 0100;ext=7"));
  EXPECT_THAT(contact.tags(), ElementsAre("vip", "lead"));
}

TEST(MapRowTest, AcceptsEnumSpellings) {
  for (const char* value : {"Paid Ads", "paid_ads", "PAID_ADS", "LEAD_SOURCE_PAID_ADS",
                            "lead_source_paid_ads", " paid-ads ", "Paid  Ads"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(MustMapRow({"lead_source"}, {value}).lead_source(), v1::LEAD_SOURCE_PAID_ADS);
  }
  EXPECT_EQ(MustMapRow({"Source"}, {"Email Marketing"}).lead_source(),
            v1::LEAD_SOURCE_EMAIL_MARKETING);
  for (const char* value : {"Prospect", "prospect", "LIFECYCLE_STAGE_PROSPECT"}) {
    SCOPED_TRACE(value);
    EXPECT_EQ(MustMapRow({"lifecycle_stage"}, {value}).lifecycle_stage(),
              v1::LIFECYCLE_STAGE_PROSPECT);
  }
}

TEST(MapRowTest, RejectsUnknownEnumValuesNamingTheColumn) {
  const Cells header = {"lead_source"};
  absl::StatusOr<ImportedRow> row = MapRow(MustMap(header), header, {"tv"});
  EXPECT_THAT(row, StatusIs(kInvalidArgument));
  EXPECT_EQ(Violation(row.status()), "lead_source: unknown lead source 'tv'");

  const Cells stage_header = {"Stage"};
  row =
      MapRow(MustMap(stage_header, {{"Stage", "lifecycle_stage"}}), stage_header, {"unspecified"});
  EXPECT_EQ(Violation(row.status()), "Stage: unknown lifecycle stage 'unspecified'");

  row = MapRow(MustMap(header), header, {std::string(100, 'x')});
  EXPECT_EQ(Violation(row.status()),
            "lead_source: unknown lead source '" + std::string(64, 'x') + "...'");
}

TEST(MapRowTest, SetsAttributesUnderTheirKeys) {
  const Cells header = {"attributes.Region", "Industry"};
  const absl::StatusOr<ImportedRow> row = MapRow(
      MustMap(header, {{"Industry", "attributes.industry"}}), header, {"Yerevan", "Software"});
  ASSERT_OK(row);
  EXPECT_THAT(row->contact.attributes(),
              UnorderedElementsAre(Pair("Region", "Yerevan"), Pair("industry", "Software")));
}

TEST(MapRowTest, SkipsEmptyCellsAndMissingCells) {
  const Cells header = {"First Name", "Email", "Tags", "Lead Source", "attributes.x", "Notes"};
  const Contact contact = MustMapRow(header, {"Anna", "  ", ""});
  EXPECT_EQ(contact.given_name(), "Anna");
  EXPECT_THAT(contact.emails(), IsEmpty());
  EXPECT_THAT(contact.tags(), IsEmpty());
  EXPECT_EQ(contact.lead_source(), v1::LEAD_SOURCE_UNSPECIFIED);
  EXPECT_THAT(contact.attributes(), IsEmpty());
}

TEST(MapRowTest, IgnoresOnlyEmptyExtraCells) {
  const Cells header = {"First Name", "Email"};
  const ImportMapping mapping = MustMap(header);
  EXPECT_OK(MapRow(mapping, header, {"Anna", "a@x.com", "", " "}));
  const absl::StatusOr<ImportedRow> row = MapRow(mapping, header, {"Anna", "a@x.com", "", "x"});
  EXPECT_THAT(row, StatusIs(kInvalidArgument));
  EXPECT_EQ(Violation(row.status()),
            "column 4: a value in column 4 but the header has only 2 columns");
}

TEST(MapRowTest, IgnoresUnmappedColumns) {
  const Cells header = {"Notes", "Email"};
  const Contact contact = MustMapRow(header, {"met at expo", "a@x.com"});
  EXPECT_THAT(contact.emails(), ElementsAre("a@x.com"));
  EXPECT_EQ(contact.given_name(), "");
}

}  // namespace
}  // namespace crm::contacts
