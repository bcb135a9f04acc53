#include "common/fields/custom_field_rules.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "common/fields/values_json.h"
#include "common/testing/status_matchers.h"

namespace crm::fields {
namespace {

using common::v1::CustomFieldType;
using ::crm::testing::InvalidField;
using ::testing::HasSubstr;

Normalizers TestNormalizers() {
  Normalizers n;
  n.text = [](absl::string_view text, size_t max_chars) -> absl::StatusOr<std::string> {
    std::string out(absl::StripAsciiWhitespace(text));
    if (out.size() > max_chars) return absl::InvalidArgumentError("too long");
    return out;
  };
  n.email = [](absl::string_view email) -> absl::StatusOr<std::string> {
    if (email.find('@') == absl::string_view::npos) return absl::InvalidArgumentError("no @");
    return std::string(email);
  };
  n.phone = [](absl::string_view phone) -> absl::StatusOr<std::string> {
    if (phone.empty() || phone[0] != '+') return absl::InvalidArgumentError("not E.164");
    return std::string(phone);
  };
  return n;
}

Definition Field(absl::string_view key, CustomFieldType type) {
  Definition d;
  d.set_key(std::string(key));
  d.set_label(std::string(key));
  d.set_type(type);
  return d;
}

Definition Normalized(Definition d) {
  EXPECT_OK(NormalizeNewDefinition(d, common::v1::OBJECT_TYPE_CONTACT, TestNormalizers(),
                                   "custom_field"));
  return d;
}

Definition Tier() {
  Definition d = Field("tier", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  d.add_options()->set_label("Gold tier");
  d.add_options()->set_label("Silver");
  auto* old = d.add_options();
  old->set_label("Bronze");
  old->set_archived(true);
  return Normalized(d);
}

absl::Status Check(Values& values, const std::vector<Definition>& defs, bool creating = true,
                   const Values* previous = nullptr) {
  return NormalizeValues(values, defs, creating, previous, TestNormalizers(),
                         "contact.custom_fields");
}

TEST(CustomFieldDefinitions, KeysAreSnakeCaseAndNamesFollowTheObject) {
  Definition d = Normalized(Field("arr_q1", common::v1::CUSTOM_FIELD_TYPE_NUMBER));
  EXPECT_EQ(d.name(), "objectTypes/contact/customFields/arr_q1");
  EXPECT_EQ(d.object_type(), common::v1::OBJECT_TYPE_CONTACT);
  // Each bad one either is not snake_case or would not read back from a lowerCamelCase mask path.
  for (const char* bad : {"", "Tier", "2tier", "tier-x", "tier x", "arr_2026", "a__b", "tier_"}) {
    Definition b = Field(bad, common::v1::CUSTOM_FIELD_TYPE_TEXT);
    EXPECT_THAT(NormalizeNewDefinition(b, common::v1::OBJECT_TYPE_CONTACT, TestNormalizers(),
                                       "custom_field"),
                InvalidField("custom_field.key"))
        << bad;
  }
  Definition long_key = Field(std::string(65, 'a'), common::v1::CUSTOM_FIELD_TYPE_TEXT);
  EXPECT_THAT(NormalizeNewDefinition(long_key, common::v1::OBJECT_TYPE_CONTACT, TestNormalizers(),
                                     "custom_field"),
              InvalidField("custom_field.key"));
}

TEST(CustomFieldDefinitions, TypeSettingsBelongToTheirTypes) {
  auto refused = [](Definition d, absl::string_view field) {
    EXPECT_THAT(
        NormalizeNewDefinition(d, common::v1::OBJECT_TYPE_DEAL, TestNormalizers(), "custom_field"),
        InvalidField(field));
  };
  refused(Field("x", common::v1::CUSTOM_FIELD_TYPE_UNSPECIFIED), "custom_field.type");
  Definition scaled = Field("x", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  scaled.set_scale(2);
  refused(scaled, "custom_field.scale");
  Definition too_fine = Field("x", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  too_fine.set_scale(10);
  refused(too_fine, "custom_field.scale");
  Definition currency = Field("x", common::v1::CUSTOM_FIELD_TYPE_MONEY);
  currency.set_currency_code("usd");
  refused(currency, "custom_field.currency_code");
  refused(Field("x", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT), "custom_field.options");
  Definition options_on_text = Field("x", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  options_on_text.add_options()->set_label("a");
  refused(options_on_text, "custom_field.options");
  refused(Field("x", common::v1::CUSTOM_FIELD_TYPE_RELATION), "custom_field.relation_object");
  Definition unique_bool = Field("x", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN);
  unique_bool.set_unique(true);
  refused(unique_bool, "custom_field.unique");
  Definition unique_default = Field("x", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  unique_default.set_unique(true);
  unique_default.mutable_default_value()->set_text("same for all");
  refused(unique_default, "custom_field.default_value");
  Definition bad_default = Field("x", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  bad_default.mutable_default_value()->set_text("12");
  refused(bad_default, "custom_field.default_value");
}

TEST(CustomFieldDefinitions, OptionIdsComeFromLabelsAndStayUnique) {
  const Definition d = Tier();
  ASSERT_EQ(d.options_size(), 3);
  EXPECT_EQ(d.options(0).id(), "gold_tier");
  EXPECT_EQ(d.options(1).id(), "silver");
  Definition armenian = Field("level", common::v1::CUSTOM_FIELD_TYPE_SINGLE_SELECT);
  armenian.add_options()->set_label("Ոսկի");
  armenian.add_options()->set_label("Արծաթ");
  armenian = Normalized(armenian);
  EXPECT_EQ(armenian.options(0).id(), "option_1");
  EXPECT_EQ(armenian.options(1).id(), "option_2");
  Definition twice = Field("x", common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT);
  twice.add_options()->set_id("a");
  twice.mutable_options(0)->set_label("A");
  twice.add_options()->set_id("a");
  twice.mutable_options(1)->set_label("B");
  EXPECT_THAT(NormalizeNewDefinition(twice, common::v1::OBJECT_TYPE_CONTACT, TestNormalizers(),
                                     "custom_field"),
              InvalidField("custom_field.options[1].id"));
}

TEST(CustomFieldDefinitions, UpdatesMayArchiveOptionsButNeverRemoveThem) {
  const Definition current = Tier();
  Definition patch;
  *patch.mutable_options() = current.options();
  patch.mutable_options()->RemoveLast();
  google::protobuf::FieldMask mask;
  mask.add_paths("options");
  Definition target = current;
  EXPECT_THAT(ApplyDefinitionUpdate(patch, mask, TestNormalizers(), target),
              InvalidField("custom_field.options"));

  patch = Definition();
  *patch.mutable_options() = current.options();
  patch.mutable_options(1)->set_label("Silver (legacy)");
  patch.mutable_options(1)->set_archived(true);
  patch.add_options()->set_label("Platinum");
  target = current;
  ASSERT_OK(ApplyDefinitionUpdate(patch, mask, TestNormalizers(), target));
  EXPECT_EQ(target.options(1).id(), "silver");
  EXPECT_TRUE(target.options(1).archived());
  EXPECT_EQ(target.options(3).id(), "platinum");

  google::protobuf::FieldMask immutable;
  immutable.add_paths("type");
  target = current;
  EXPECT_THAT(ApplyDefinitionUpdate(patch, immutable, TestNormalizers(), target),
              InvalidField("update_mask"));
}

TEST(CustomFieldValues, EachTypeTakesItsOwnKindAndNormalises) {
  Definition amount = Field("amount", common::v1::CUSTOM_FIELD_TYPE_NUMBER);
  amount.set_scale(2);
  Definition share = Field("share", common::v1::CUSTOM_FIELD_TYPE_PERCENT);
  share.set_scale(1);
  Definition site = Field("site", common::v1::CUSTOM_FIELD_TYPE_URL);
  Definition born = Field("born", common::v1::CUSTOM_FIELD_TYPE_DATE);
  Definition partner = Field("partner", common::v1::CUSTOM_FIELD_TYPE_RELATION);
  partner.set_relation_object(common::v1::OBJECT_TYPE_COMPANY);
  const std::vector<Definition> defs = {Normalized(amount), Normalized(share),   Normalized(site),
                                        Normalized(born),   Normalized(partner), Tier()};
  Values values;
  values["amount"].set_number("-0012.50");
  values["share"].set_percent("-0.0");
  values["site"].set_url("  HTTPS://example.com/a?b=1 ");
  values["born"].set_date("2024-02-29");
  values["partner"].set_record("companies/0190c3d2-8f5e-7a3b-9c1d-2e3f4a5b6c7d");
  values["tier"].set_option("gold_tier");
  ASSERT_OK(Check(values, defs));
  EXPECT_EQ(values["amount"].number(), "-12.50");
  EXPECT_EQ(values["share"].percent(), "0.0");
  EXPECT_EQ(values["site"].url(), "https://example.com/a?b=1");

  auto refused = [&](const std::string& key, Value value, absl::string_view says) {
    Values one;
    one[key] = value;
    absl::Status status = Check(one, defs);
    EXPECT_THAT(status, InvalidField("contact.custom_fields." + key)) << key;
    EXPECT_THAT(status.message(), HasSubstr(says)) << key;
  };
  Value v;
  v.set_text("12");
  refused("amount", v, "takes \"number\"");
  v.set_number("12.505");
  refused("amount", v, "more than 2 digits");
  v.set_number("1e5");
  refused("amount", v, "decimal number");
  v.set_number("1234567890123456789");
  refused("amount", v, "digits before");
  v.set_url("ftp://example.com");
  refused("site", v, "http");
  v.set_url("https:///path");
  refused("site", v, "host");
  v.set_date("2023-02-29");
  refused("born", v, "calendar date");
  v.set_date("2024-2-1");
  refused("born", v, "calendar date");
  v.set_record("contacts/0190c3d2-8f5e-7a3b-9c1d-2e3f4a5b6c7d");
  refused("partner", v, "companies/");
  v.set_option("platinum");
  refused("tier", v, "not an option");
  v.set_option("bronze");
  refused("tier", v, "archived");
  v.set_text("x");
  refused("nope", v, "no custom field");
}

TEST(CustomFieldValues, DefaultsFillCreatesAndRequiredFieldsMustHoldAValue) {
  Definition source = Field("source", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  source.mutable_default_value()->set_text("web");
  Definition region = Field("region", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  region.set_required(true);
  const std::vector<Definition> defs = {Normalized(source), Normalized(region)};
  Values values;
  EXPECT_THAT(Check(values, defs), InvalidField("contact.custom_fields.region"));
  values["region"].set_text("EU");
  ASSERT_OK(Check(values, defs));
  EXPECT_EQ(values["source"].text(), "web");

  // {} clears a value; a required one cannot be cleared.
  Values cleared = values;
  cleared["source"] = Value();
  ASSERT_OK(Check(cleared, defs, /*creating=*/false));
  EXPECT_FALSE(cleared.contains("source"));
  cleared["region"] = Value();
  EXPECT_THAT(Check(cleared, defs, false), InvalidField("contact.custom_fields.region"));
}

TEST(CustomFieldValues, ArchivedFieldsAndOptionsAreRefusedUnlessAlreadyHeld) {
  Definition hidden = Field("legacy", common::v1::CUSTOM_FIELD_TYPE_TEXT);
  hidden.set_archived(true);
  const std::vector<Definition> defs = {Normalized(hidden), Tier()};
  Values values;
  values["legacy"].set_text("x");
  EXPECT_THAT(Check(values, defs), InvalidField("contact.custom_fields.legacy"));

  Values previous;
  previous["tier"].set_option("bronze");
  Values keep = previous;
  ASSERT_OK(Check(keep, defs, false, &previous));
  EXPECT_THAT(Check(keep, defs, false, nullptr), InvalidField("contact.custom_fields.tier"));
}

// ValuesToJson writes by hand what the protobuf JSON printer writes: the same JSON for every
// kind, defaults and escapes included, so stored values read the same whoever wrote them.
TEST(CustomFieldValues, StoredJsonIsTheProto3JsonOfTheValues) {
  Values values;
  values["text"].set_text("Quote \" backslash \\ tab \t Ünïcode ա");
  values["empty_text"].set_text("");
  values["number"].set_number("-12.50");
  values["money"].mutable_money()->set_currency_code("EUR");
  values["money"].mutable_money()->set_amount_minor(-125000);
  values["zero_money"].mutable_money()->set_currency_code("USD");
  values["percent"].set_percent("12.5");
  values["date"].set_date("2026-03-14");
  values["when"].mutable_date_time()->set_seconds(1767225600);
  values["when_nanos"].mutable_date_time()->set_seconds(1767225600);
  values["when_nanos"].mutable_date_time()->set_nanos(500000000);
  values["yes"].set_boolean(true);
  values["no"].set_boolean(false);
  values["option"].set_option("gold");
  values["options"].mutable_options()->add_ids("a");
  values["options"].mutable_options()->add_ids("b");
  values["no_options"].mutable_options();
  values["url"].set_url("https://x.example/?a=1&b=2");
  values["email"].set_email("a@x.example");
  values["phone"].set_phone("+37410123456");
  values["user"].set_user("ann");
  values["record"].set_record("contacts/0190");
  values["unset"];  // no kind
  common::v1::CustomFieldValues wrapper;
  *wrapper.mutable_values() = values;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string printed;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(wrapper, &printed, options).ok());
  EXPECT_EQ(nlohmann::json::parse(ValuesToJson(values)), nlohmann::json::parse(printed)["values"]);
}

TEST(CustomFieldValues, JsonRoundTripReadsLikeTheApi) {
  Values values;
  values["tier"].set_option("gold");
  values["tags"].mutable_options()->add_ids("a");
  values["amount"].mutable_money()->set_currency_code("AMD");
  values["amount"].mutable_money()->set_amount_minor(125000);
  values["vip"].set_boolean(false);
  const std::string json = ValuesToJson(values);
  EXPECT_THAT(json, HasSubstr("\"tier\":{\"option\":\"gold\"}"));
  EXPECT_THAT(json, HasSubstr("\"vip\":{\"boolean\":false}"));
  Values back;
  ASSERT_OK(ValuesFromJson(json, &back));
  EXPECT_EQ(back.size(), 4u);
  EXPECT_EQ(back["amount"].money().amount_minor(), 125000);
  EXPECT_TRUE(back["vip"].has_boolean());
  EXPECT_EQ(ValuesToJson(Values()), "{}");
  EXPECT_FALSE(ValuesFromJson("[1]", &back).ok());
}

TEST(CustomFieldValues, ExportCellsReadBackAsTheSameValues) {
  Definition multi = Field("langs", common::v1::CUSTOM_FIELD_TYPE_MULTI_SELECT);
  multi.add_options()->set_label("English");
  multi.add_options()->set_label("Armenian");
  multi = Normalized(multi);
  Definition when = Field("signed_at", common::v1::CUSTOM_FIELD_TYPE_DATE_TIME);
  Definition flag = Field("vip", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN);
  Definition share = Field("share", common::v1::CUSTOM_FIELD_TYPE_PERCENT);
  share.set_scale(1);
  std::vector<std::pair<Definition, Value>> cases;
  Value v;
  v.mutable_options()->add_ids("english");
  v.mutable_options()->add_ids("armenian");
  cases.push_back({multi, v});
  v.Clear();
  v.set_option("gold_tier");
  cases.push_back({Tier(), v});
  v.Clear();
  ASSERT_TRUE(
      google::protobuf::util::TimeUtil::FromString("2026-12-31T23:59:59Z", v.mutable_date_time()));
  cases.push_back({when, v});
  v.Clear();
  v.set_boolean(false);
  cases.push_back({flag, v});
  v.Clear();
  v.set_percent("12.5");
  cases.push_back({share, v});
  for (const auto& [definition, value] : cases) {
    const std::string cell = ValueToText(value);
    absl::StatusOr<Value> back = ValueFromText(definition, cell);
    ASSERT_TRUE(back.ok()) << definition.key() << ": " << back.status();
    EXPECT_EQ(back->SerializeAsString(), value.SerializeAsString())
        << definition.key() << " from '" << cell << "'";
  }
  v.Clear();
  v.mutable_money()->set_amount_minor(1250);
  v.mutable_money()->set_currency_code("EUR");
  EXPECT_EQ(ValueToText(v), "1250 EUR");

  // Money reads back from its cell, the currency first or last, or alone when the field fixes
  // the currency; anything else is refused.
  Definition budget = Field("budget", common::v1::CUSTOM_FIELD_TYPE_MONEY);
  for (const char* cell : {"1250 EUR", "EUR 1250", "  1250   EUR "}) {
    absl::StatusOr<Value> back = ValueFromText(budget, cell);
    ASSERT_TRUE(back.ok()) << cell << ": " << back.status();
    EXPECT_EQ(back->SerializeAsString(), v.SerializeAsString()) << cell;
  }
  budget.set_currency_code("EUR");
  absl::StatusOr<Value> fixed = ValueFromText(budget, "-300");
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->money().amount_minor(), -300);
  EXPECT_EQ(fixed->money().currency_code(), "EUR");
  for (const char* bad : {"12.50 EUR", "EUR", "1 2 EUR", "lots"}) {
    EXPECT_FALSE(ValueFromText(budget, bad).ok()) << bad;
  }
}

TEST(CustomFieldValues, AssignmentsFromACommandLineAreTypedByTheirDefinitions) {
  Definition vip = Field("vip", common::v1::CUSTOM_FIELD_TYPE_BOOLEAN);
  const std::vector<Definition> defs = {Tier(), vip};
  absl::StatusOr<Values> values =
      ValuesFromAssignments(defs, {"tier=Silver", "vip=yes"}, "contact.custom_fields");
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(values->at("tier").option(), "silver");
  EXPECT_TRUE(values->at("vip").boolean());
  EXPECT_THAT(ValuesFromAssignments(defs, {"colour=red"}, "contact.custom_fields"),
              InvalidField("contact.custom_fields.colour"));
  EXPECT_THAT(ValuesFromAssignments(defs, {"vip"}, "contact.custom_fields"),
              InvalidField("contact.custom_fields"));
  EXPECT_THAT(ValuesFromAssignments(defs, {"vip=perhaps"}, "contact.custom_fields"),
              InvalidField("contact.custom_fields.vip"));
}

}  // namespace
}  // namespace crm::fields
