// Unit tests of the contacts service's small pure parts: message templates, duplicate scoring,
// activity validation and the timeline cursor, CSV export rows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "services/contacts/activity_rules.h"
#include "services/contacts/csv_writer.h"
#include "services/contacts/duplicate_scoring.h"
#include "services/contacts/message_template.h"

namespace crm::contacts {
namespace {

using crm::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;

v1::Contact Anna() {
  v1::Contact c;
  c.set_given_name("Աննա");
  c.set_family_name("Պետրոսյան");
  c.add_emails("anna@acme.example");
  c.add_phones("+37491234567");
  c.set_job_title("CTO");
  c.set_company("companies/0190c3d2-aaaa-7bbb-8ccc-123456789abc");
  (*c.mutable_attributes())["city"] = "Yerevan";
  return c;
}

TEST(MessageTemplateTest, RendersFieldsAliasesAndAttributes) {
  auto t = MessageTemplate::Compile(
      "Hello {{ first_name }} {{last_name}} ({{full_name}}) of {{company_name}} in "
      "{{attributes.city}}: {{email}} {{phone}} {{job_title}}{{attributes.missing}}!");
  ASSERT_OK(t);
  EXPECT_EQ(t->Render(Anna(), "Acme"),
            "Hello Աննա Պետրոսյան (Աննա Պետրոսյան) of Acme in Yerevan: anna@acme.example "
            "+37491234567 CTO!");
}

TEST(MessageTemplateTest, UnknownFieldsAndBadTemplatesAreInvalidArgumentWithPosition) {
  auto unknown = MessageTemplate::Compile("Hi {{nickname}}");
  EXPECT_THAT(unknown, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(unknown.status().message(), HasSubstr("at position 3: unknown field 'nickname'"));
  EXPECT_THAT(MessageTemplate::Compile("Hi {{given_name"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MessageTemplate::Compile(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MessageTemplate::Compile(std::string(10001, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto plain = MessageTemplate::Compile("no fields at all");
  ASSERT_OK(plain);
  EXPECT_EQ(plain->Render(Anna(), ""), "no fields at all");
}

TEST(DuplicateScoringTest, SameNameAtTheSameCompanyScoresHighestAcrossCase) {
  v1::Contact other = Anna();
  other.set_given_name("ԱՆՆԱ");  // upper case Armenian
  other.clear_emails();
  other.add_emails("a.p@gmail.example");
  DuplicateScore score = ScoreDuplicate(Anna(), other, 0.9);
  EXPECT_GE(score.score, 0.95);
  EXPECT_THAT(score.reasons, Contains("same name at the same company"));
}

TEST(DuplicateScoringTest, SameNameDifferentEmailAndSimilarNames) {
  v1::Contact other = Anna();
  other.clear_company();
  other.clear_emails();
  other.add_emails("other@x.example");
  other.clear_job_title();
  DuplicateScore same_name = ScoreDuplicate(Anna(), other, 1.0);
  EXPECT_DOUBLE_EQ(same_name.score, 0.75);
  EXPECT_THAT(same_name.reasons, Contains("same name with a different email"));

  other.set_family_name("Պետրոսյանց");
  DuplicateScore similar = ScoreDuplicate(Anna(), other, 0.8);
  EXPECT_NEAR(similar.score, 0.48, 1e-9);
  EXPECT_THAT(similar.reasons, Contains("similar name"));
  EXPECT_EQ(ScoreDuplicate(Anna(), other, 0.2).score, 0);
}

TEST(ActivityRulesTest, NormalizesDefaultsAndRejectsBadFields) {
  const absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  v1::Activity a;
  a.set_kind(v1::ACTIVITY_KIND_CALL);
  a.set_contact("contacts/0190c3d2-aaaa-7bbb-8ccc-123456789abc");
  a.set_subject("  Intro  ");
  a.set_body("line one\nline two");
  ASSERT_OK(NormalizeActivity(a, now));
  EXPECT_EQ(a.occur_time().seconds(), 1'780'000'000);
  EXPECT_EQ(a.subject(), "Intro");

  v1::Activity no_kind = a;
  no_kind.set_kind(v1::ACTIVITY_KIND_UNSPECIFIED);
  EXPECT_THAT(NormalizeActivity(no_kind, now), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::Activity future = a;
  future.mutable_occur_time()->set_seconds(1'780'000'000 + 2 * 86400);
  EXPECT_THAT(NormalizeActivity(future, now), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::Activity bad_deal = a;
  bad_deal.set_opportunity("tasks/1");
  EXPECT_THAT(NormalizeActivity(bad_deal, now), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::Activity long_subject = a;
  long_subject.set_subject(std::string(201, 's'));
  EXPECT_THAT(NormalizeActivity(long_subject, now), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::Activity negative = a;
  negative.mutable_duration()->set_seconds(-1);
  EXPECT_THAT(NormalizeActivity(negative, now), StatusIs(absl::StatusCode::kInvalidArgument));

  EXPECT_FALSE(CountsAsContact(v1::ACTIVITY_KIND_NOTE));
  EXPECT_TRUE(CountsAsContact(v1::ACTIVITY_KIND_MEETING));
  for (auto kind : {v1::ACTIVITY_KIND_CALL, v1::ACTIVITY_KIND_EMAIL, v1::ACTIVITY_KIND_MEETING,
                    v1::ACTIVITY_KIND_NOTE}) {
    EXPECT_EQ(ActivityKindFromText(ActivityKindToText(kind)), kind);
  }
}

TEST(ActivityRulesTest, TimelineCursorRoundTripsAndRejectsGarbage) {
  TimelineCursor cursor{1'780'000'000'123'456, "0190c3d2-aaaa-7bbb-8ccc-123456789abc"};
  auto decoded = DecodeTimelineCursor(EncodeTimelineCursor(cursor));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->occur_micros, cursor.occur_micros);
  EXPECT_EQ(decoded->id, cursor.id);
  for (const char* bad : {"", "1/2", "x/0190c3d2-aaaa-7bbb-8ccc-123456789abc", "1/2/3"}) {
    EXPECT_THAT(DecodeTimelineCursor(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(CsvWriterTest, QuotesEveryFieldAndDefusesFormulas) {
  std::string out;
  AppendCsvRow({{"plain"},
                {"has \"quotes\", commas\nand lines"},
                {"=SUM(A1)"},
                {"+374", true},
                {"-1"},
                {"@x"},
                {""}},
               out);
  EXPECT_EQ(out,
            "\"plain\",\"has \"\"quotes\"\", commas\nand lines\",\"'=SUM(A1)\",\"+374\","
            "\"'-1\",\"'@x\",\"\"\r\n");
  // Spreadsheets skip a leading TAB or CR, then run the formula behind it.
  std::string hidden;
  AppendCsvRow({{"\t=cmd|' /C calc'!A0"}, {"\r+1"}}, hidden);
  EXPECT_EQ(hidden, "\"'\t=cmd|' /C calc'!A0\",\"'\r+1\"\r\n");
}

}  // namespace
}  // namespace crm::contacts
