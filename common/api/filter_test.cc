#include "common/api/filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/testing/status_matchers.h"
#include "google/rpc/error_details.pb.h"

namespace crm::api {
namespace {

using ::crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

using Params = std::vector<std::string>;

std::optional<std::string> StageValue(absl::string_view literal) {
  std::string upper = absl::AsciiStrToUpper(literal);
  absl::string_view stage = upper;
  absl::ConsumePrefix(&stage, "LIFECYCLE_STAGE_");
  if (stage == "LEAD" || stage == "CUSTOMER") return absl::AsciiStrToLower(stage);
  return std::nullopt;
}

FilterField Field(std::string name, std::string sql, FilterType type) {
  FilterField field;
  field.name = std::move(name);
  field.sql = std::move(sql);
  field.type = type;
  return field;
}

const FilterSchema& Schema() {
  static const FilterSchema* const schema = [] {
    auto* s = new FilterSchema;
    s->fields.push_back(Field("name", "c.name", FilterType::kString));
    s->fields.push_back(Field("age", "c.age", FilterType::kInt));
    s->fields.push_back(Field("archived", "c.archived", FilterType::kBool));
    s->fields.push_back(Field("create_time", "c.create_time", FilterType::kTimestamp));
    FilterField stage = Field("lifecycle_stage", "c.lifecycle_stage", FilterType::kEnum);
    stage.enum_value = StageValue;
    s->fields.push_back(std::move(stage));
    s->fields.push_back(Field("tags", "c.tags", FilterType::kStringList));
    s->fields.push_back(Field("attributes", "c.attributes", FilterType::kStringMap));
    s->fields.push_back(Field("company.industry", "co.industry", FilterType::kString));
    return s;
  }();
  return *schema;
}

constexpr absl::string_view kFieldList =
    "(filterable fields: name, age, archived, create_time, lifecycle_stage, tags, attributes, "
    "company.industry)";

absl::StatusOr<SqlFilter> Compile(absl::string_view filter, const FilterLimits& limits = {}) {
  return CompileFilter(filter, Schema(), 1, limits);
}

// Expects `filter` to compile to exactly `where` and `params`.
void ExpectSql(absl::string_view filter, absl::string_view where, const Params& params) {
  SCOPED_TRACE(filter);
  absl::StatusOr<SqlFilter> sql = Compile(filter);
  ASSERT_OK(sql);
  EXPECT_EQ(sql->where, where);
  EXPECT_EQ(sql->params, params);
}

// The description of the "filter" field violation `filter` fails with.
std::string Error(absl::string_view filter, const FilterLimits& limits = {}) {
  absl::StatusOr<SqlFilter> sql = Compile(filter, limits);
  EXPECT_THAT(sql, StatusIs(absl::StatusCode::kInvalidArgument)) << filter;
  google::rpc::BadRequest bad_request;
  if (!GetDetail(sql.status(), &bad_request) || bad_request.field_violations_size() != 1) {
    return "<no BadRequest>";
  }
  EXPECT_EQ(bad_request.field_violations(0).field(), "filter");
  return bad_request.field_violations(0).description();
}

TEST(FilterTest, AnIndexedFieldAddsItsIndexedPredicateToExactMatchesOnly) {
  FilterSchema schema;
  FilterField code = Field("code", "(v ->> 'code')", FilterType::kString);
  code.index_sql = "id IN (SELECT id FROM codes WHERE code = $value)";
  code.index_value = [](absl::string_view v) { return absl::AsciiStrToLower(v); };
  schema.fields.push_back(std::move(code));
  absl::StatusOr<SqlFilter> exact = CompileFilter("code = \"AB-1\"", schema, 3);
  ASSERT_OK(exact);
  EXPECT_EQ(exact->where,
            "(((v ->> 'code') = $3) AND id IN (SELECT id FROM codes WHERE code = $4))");
  EXPECT_THAT(exact->params, ElementsAre("AB-1", "ab-1"));
  // Prefixes, substrings, != and ranges have no index behind them: the comparison alone.
  for (absl::string_view filter : {"code = AB*", "code : ab", "code != AB", "code > AB"}) {
    absl::StatusOr<SqlFilter> other = CompileFilter(filter, schema, 1);
    ASSERT_OK(other);
    EXPECT_THAT(other->where, Not(HasSubstr("codes"))) << filter;
  }
}

// ----------------------------------------------------------------------------------------------
// Structure

TEST(FilterTest, EmptyOrWhitespaceFilterIsNoFilter) {
  for (absl::string_view filter : {"", " ", " \t\r\n "}) {
    absl::StatusOr<SqlFilter> sql = Compile(filter);
    ASSERT_OK(sql);
    EXPECT_EQ(sql->where, "");
    EXPECT_THAT(sql->params, IsEmpty());
  }
}

TEST(FilterTest, SingleRestrictionIsParenthesised) {
  ExpectSql("name = \"Ada\"", "(c.name = $1)", {"Ada"});
  ExpectSql("name=Ada", "(c.name = $1)", {"Ada"});
}

TEST(FilterTest, PlaceholdersStartAtFirstParam) {
  absl::StatusOr<SqlFilter> sql =
      CompileFilter("name = a AND attributes.size = \"38\" OR age > 3", Schema(), 4);
  ASSERT_OK(sql);
  EXPECT_EQ(sql->where,
            "((c.name = $4) AND (((c.attributes ->> $5::text) = $6) OR (c.age > $7::bigint)))");
  EXPECT_THAT(sql->params, ElementsAre("a", "size", "38", "3"));
}

TEST(FilterTest, DecimalFieldsCompareExactlyAsNumeric) {
  FilterSchema schema;
  schema.fields.push_back(Field("arr", "(c.arr)::numeric", FilterType::kDecimal));
  absl::StatusOr<SqlFilter> sql = CompileFilter("arr >= 1200.50 AND arr != -3", schema, 1);
  ASSERT_OK(sql);
  EXPECT_EQ(
      sql->where,
      "(((c.arr)::numeric >= $1::numeric) AND ((c.arr)::numeric IS DISTINCT FROM $2::numeric))");
  EXPECT_THAT(sql->params, ElementsAre("1200.50", "-3"));
  for (absl::string_view bad : {"arr > 1e5", "arr > NaN", "arr > 1.", "arr > .5", "arr : 1"}) {
    EXPECT_THAT(CompileFilter(bad, schema, 1), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(FilterTest, FirstParamBelowOneIsAProgrammingError) {
  EXPECT_THAT(CompileFilter("name = a", Schema(), 0), StatusIs(absl::StatusCode::kInternal));
}

TEST(FilterTest, OrBindsTighterThanAnd) {
  ExpectSql("name = a AND name = b OR name = c",
            "((c.name = $1) AND ((c.name = $2) OR (c.name = $3)))", {"a", "b", "c"});
  ExpectSql("name = a OR name = b AND name = c",
            "(((c.name = $1) OR (c.name = $2)) AND (c.name = $3))", {"a", "b", "c"});
  ExpectSql("name = a OR name = b OR name = c", "((c.name = $1) OR (c.name = $2) OR (c.name = $3))",
            {"a", "b", "c"});
}

TEST(FilterTest, OrBindsTighterThanImplicitAnd) {
  ExpectSql("name = a name = b OR name = c", "((c.name = $1) AND ((c.name = $2) OR (c.name = $3)))",
            {"a", "b", "c"});
}

TEST(FilterTest, ParenthesesOverridePrecedence) {
  ExpectSql("(name = a AND name = b) OR name = c",
            "(((c.name = $1) AND (c.name = $2)) OR (c.name = $3))", {"a", "b", "c"});
  ExpectSql("name = a OR (name = b AND name = c)",
            "((c.name = $1) OR ((c.name = $2) AND (c.name = $3)))", {"a", "b", "c"});
  ExpectSql("((name = a))", "(c.name = $1)", {"a"});
}

TEST(FilterTest, ImplicitAndJoinsAdjacentTerms) {
  ExpectSql("name = a age > 3 archived = true",
            "((c.name = $1) AND (c.age > $2::bigint) AND (c.archived = $3::boolean))",
            {"a", "3", "true"});
  // Implicit and explicit AND, and nested ANDs, flatten into one list.
  ExpectSql("name = a name = b AND (name = c AND name = d)",
            "((c.name = $1) AND (c.name = $2) AND (c.name = $3) AND (c.name = $4))",
            {"a", "b", "c", "d"});
}

TEST(FilterTest, NotBindsTightest) {
  ExpectSql("NOT name = a OR name = b", "(((c.name = $1) IS NOT TRUE) OR (c.name = $2))",
            {"a", "b"});
  ExpectSql("NOT (name = a OR name = b)", "(((c.name = $1) OR (c.name = $2)) IS NOT TRUE)",
            {"a", "b"});
  ExpectSql("NOT(name = a)", "((c.name = $1) IS NOT TRUE)", {"a"});
}

TEST(FilterTest, MinusNegates) {
  ExpectSql("-name = a", "((c.name = $1) IS NOT TRUE)", {"a"});
  ExpectSql("-(name = a OR age = 1)", "(((c.name = $1) OR (c.age = $2::bigint)) IS NOT TRUE)",
            {"a", "1"});
  ExpectSql("name = a -tags:vip", "((c.name = $1) AND (($2 = ANY(c.tags)) IS NOT TRUE))",
            {"a", "vip"});
  ExpectSql("--name = a", "(((c.name = $1) IS NOT TRUE) IS NOT TRUE)", {"a"});
  ExpectSql("NOT -name = a", "(((c.name = $1) IS NOT TRUE) IS NOT TRUE)", {"a"});
  // In a value, '-' is part of the value.
  ExpectSql("age > -5 name = -x", "((c.age > $1::bigint) AND (c.name = $2))", {"-5", "-x"});
}

TEST(FilterTest, DottedFieldNamesAreLookedUp) {
  ExpectSql("company.industry = Tech", "(co.industry = $1)", {"Tech"});
  EXPECT_EQ(Error("company.size = 3"),
            absl::StrCat("at position 0: unknown field 'company.size' ", kFieldList));
}

// ----------------------------------------------------------------------------------------------
// Field types

TEST(FilterTest, StringComparators) {
  ExpectSql("name = Ada", "(c.name = $1)", {"Ada"});
  ExpectSql("name != Ada", "(c.name IS DISTINCT FROM $1)", {"Ada"});
  ExpectSql("name < b", "(c.name < $1)", {"b"});
  ExpectSql("name <= b", "(c.name <= $1)", {"b"});
  ExpectSql("name > b", "(c.name > $1)", {"b"});
  ExpectSql("name >= b", "(c.name >= $1)", {"b"});
  ExpectSql("name = \"\"", "(c.name = $1)", {""});
  // Bare numbers and booleans are just text for a string field.
  ExpectSql("name = 42", "(c.name = $1)", {"42"});
}

TEST(FilterTest, StringHasIsCaseInsensitiveSubstring) {
  ExpectSql("name:ada", "(c.name ILIKE $1 ESCAPE '\\')", {"%ada%"});
  ExpectSql("name:\"ada lovelace\"", "(c.name ILIKE $1 ESCAPE '\\')", {"%ada lovelace%"});
  // LIKE metacharacters in the value match literally.
  ExpectSql("name:\"50%_off\\\\\"", "(c.name ILIKE $1 ESCAPE '\\')", {"%50\\%\\_off\\\\%"});
  // A trailing wildcard adds nothing to a substring match.
  ExpectSql("name:ada*", "(c.name ILIKE $1 ESCAPE '\\')", {"%ada%"});
}

TEST(FilterTest, StringTrailingStarIsPrefixMatch) {
  ExpectSql("name = Ad*", "(c.name LIKE $1 ESCAPE '\\')", {"Ad%"});
  ExpectSql("name = \"50%*\"", "(c.name LIKE $1 ESCAPE '\\')", {"50\\%%"});
  ExpectSql("name != Ad*", "((c.name LIKE $1 ESCAPE '\\') IS NOT TRUE)", {"Ad%"});
  // An escaped star is a literal star.
  ExpectSql("name = \"Ad\\*\"", "(c.name = $1)", {"Ad*"});
  ExpectSql("name < \"a\\*\"", "(c.name < $1)", {"a*"});
  EXPECT_EQ(Error("name < a*"),
            "at position 7: the '*' wildcard is not supported in <, <=, > and >=; write \\* inside "
            "quotes for a literal '*'");
}

TEST(FilterTest, PresenceOnEveryType) {
  ExpectSql("name:*", "(c.name <> '')", {});
  ExpectSql("age:*", "(c.age IS NOT NULL)", {});
  ExpectSql("archived:*", "(c.archived IS NOT NULL)", {});
  ExpectSql("create_time:*", "(c.create_time IS NOT NULL)", {});
  ExpectSql("lifecycle_stage:*", "(c.lifecycle_stage IS NOT NULL)", {});
  ExpectSql("tags:*", "(cardinality(c.tags) > 0)", {});
  ExpectSql("attributes:*", "(c.attributes <> '{}'::jsonb)", {});
  ExpectSql("attributes.size:*", "(c.attributes ? $1::text)", {"size"});
  ExpectSql("name:\"*\"", "(c.name <> '')", {});
  // An escaped star is searched for.
  ExpectSql("name:\"\\*\"", "(c.name ILIKE $1 ESCAPE '\\')", {"%*%"});
}

TEST(FilterTest, IntComparators) {
  ExpectSql("age = 42", "(c.age = $1::bigint)", {"42"});
  ExpectSql("age != 42", "(c.age IS DISTINCT FROM $1::bigint)", {"42"});
  ExpectSql("age < 42", "(c.age < $1::bigint)", {"42"});
  ExpectSql("age <= 42", "(c.age <= $1::bigint)", {"42"});
  ExpectSql("age > -42", "(c.age > $1::bigint)", {"-42"});
  ExpectSql("age >= \"42\"", "(c.age >= $1::bigint)", {"42"});
  ExpectSql("age = +7", "(c.age = $1::bigint)", {"7"});
  ExpectSql("age = 9223372036854775807", "(c.age = $1::bigint)", {"9223372036854775807"});
}

TEST(FilterTest, IntErrors) {
  EXPECT_EQ(Error("age:42"),
            "at position 3: ':' does not apply to integer field 'age'; use =, !=, <, <=, > or >=");
  EXPECT_EQ(Error("age = 4.5"), "at position 6: expected an integer for field 'age', found '4.5'");
  EXPECT_EQ(Error("age = forty"),
            "at position 6: expected an integer for field 'age', found 'forty'");
  EXPECT_EQ(Error("age = 9223372036854775808"),
            "at position 6: expected an integer for field 'age', found '9223372036854775808'");
  EXPECT_EQ(Error("age = 4*"), "at position 6: expected an integer for field 'age', found '4*'");
}

TEST(FilterTest, BoolComparators) {
  ExpectSql("archived = true", "(c.archived = $1::boolean)", {"true"});
  ExpectSql("archived != false", "(c.archived IS DISTINCT FROM $1::boolean)", {"false"});
  EXPECT_EQ(Error("archived < true"),
            "at position 9: boolean field 'archived' supports only = and !=");
  EXPECT_EQ(Error("archived:true"),
            "at position 8: boolean field 'archived' supports only = and !=");
  EXPECT_EQ(Error("archived = yes"),
            "at position 11: expected true or false for field 'archived', found 'yes'");
  EXPECT_EQ(Error("archived = TRUE"),
            "at position 11: expected true or false for field 'archived', found 'TRUE'");
}

TEST(FilterTest, TimestampComparators) {
  const std::string t = "2026-01-01T00:00:00+00:00";
  ExpectSql("create_time = \"2026-01-01T00:00:00Z\"", "(c.create_time = $1::timestamptz)", {t});
  ExpectSql("create_time != \"2026-01-01T00:00:00Z\"",
            "(c.create_time IS DISTINCT FROM $1::timestamptz)", {t});
  ExpectSql("create_time < '2026-01-01T00:00:00Z'", "(c.create_time < $1::timestamptz)", {t});
  ExpectSql("create_time <= \"2026-01-01T00:00:00Z\"", "(c.create_time <= $1::timestamptz)", {t});
  ExpectSql("create_time > \"2026-01-01T00:00:00Z\"", "(c.create_time > $1::timestamptz)", {t});
  ExpectSql("create_time >= \"2026-01-01T00:00:00Z\"", "(c.create_time >= $1::timestamptz)", {t});
  // Offsets and fractions are normalised to UTC.
  ExpectSql("create_time > \"2026-01-01T04:00:00+04:00\"", "(c.create_time > $1::timestamptz)",
            {t});
  ExpectSql("create_time > \"2025-12-31T23:30:00.25-00:30\"", "(c.create_time > $1::timestamptz)",
            {"2026-01-01T00:00:00.25+00:00"});
}

TEST(FilterTest, TimestampErrors) {
  const std::string expected_suffix =
      "expected an RFC 3339 timestamp for field 'create_time' such as \"2026-01-01T00:00:00Z\", "
      "found ";
  EXPECT_EQ(Error("create_time > \"2026-01-01\""),
            absl::StrCat("at position 14: ", expected_suffix, "'2026-01-01'"));
  EXPECT_EQ(Error("create_time > yesterday"),
            absl::StrCat("at position 14: ", expected_suffix, "'yesterday'"));
  EXPECT_EQ(Error("create_time > \"infinite-future\""),
            absl::StrCat("at position 14: ", expected_suffix, "'infinite-future'"));
  EXPECT_EQ(Error("create_time > \"0000-01-01T00:00:00Z\""),
            absl::StrCat("at position 14: ", expected_suffix, "'0000-01-01T00:00:00Z'"));
  EXPECT_EQ(Error("create_time > \"10000-01-01T00:00:00Z\""),
            absl::StrCat("at position 14: ", expected_suffix, "'10000-01-01T00:00:00Z'"));
  // A bare timestamp stops at its first ':' (quote timestamps).
  EXPECT_EQ(Error("create_time > 2026-01-01T00:00:00Z"),
            absl::StrCat("at position 14: ", expected_suffix, "'2026-01-01T00'"));
  EXPECT_EQ(Error("create_time:\"2026-01-01T00:00:00Z\""),
            "at position 11: ':' does not apply to timestamp field 'create_time'; use =, !=, <, "
            "<=, > or >=");
}

TEST(FilterTest, EnumValuesAreMapped) {
  ExpectSql("lifecycle_stage = CUSTOMER", "(c.lifecycle_stage = $1)", {"customer"});
  ExpectSql("lifecycle_stage = customer", "(c.lifecycle_stage = $1)", {"customer"});
  ExpectSql("lifecycle_stage = \"LIFECYCLE_STAGE_LEAD\"", "(c.lifecycle_stage = $1)", {"lead"});
  ExpectSql("lifecycle_stage != LEAD", "(c.lifecycle_stage IS DISTINCT FROM $1)", {"lead"});
}

TEST(FilterTest, EnumErrors) {
  EXPECT_EQ(Error("lifecycle_stage = PROSPECT"),
            "at position 18: unknown value 'PROSPECT' for enum field 'lifecycle_stage'");
  EXPECT_EQ(Error("lifecycle_stage > LEAD"),
            "at position 16: enum field 'lifecycle_stage' supports only = and !=");
  EXPECT_EQ(Error("lifecycle_stage:LEAD"),
            "at position 15: enum field 'lifecycle_stage' supports only = and !=");

  FilterSchema broken;
  broken.fields.push_back(Field("stage", "c.stage", FilterType::kEnum));  // no enum_value
  EXPECT_THAT(CompileFilter("stage = LEAD", broken, 1), StatusIs(absl::StatusCode::kInternal));
}

TEST(FilterTest, StringListMembership) {
  ExpectSql("tags:vip", "($1 = ANY(c.tags))", {"vip"});
  ExpectSql("tags:\"big fish\"", "($1 = ANY(c.tags))", {"big fish"});
  ExpectSql("tags:\"v\\*\"", "($1 = ANY(c.tags))", {"v*"});
  for (absl::string_view op : {"=", "!=", "<", "<=", ">", ">="}) {
    EXPECT_EQ(Error(absl::StrCat("tags ", op, " vip")),
              "at position 5: use ':' to test membership of list field 'tags', e.g. tags:vip");
  }
  EXPECT_EQ(Error("tags:vi*"),
            "at position 5: the '*' wildcard is not supported in list membership; write \\* "
            "inside quotes for a literal '*'");
}

TEST(FilterTest, StringMapValues) {
  ExpectSql("attributes.size = \"38\"", "((c.attributes ->> $1::text) = $2)", {"size", "38"});
  ExpectSql("attributes.size != 38", "((c.attributes ->> $1::text) IS DISTINCT FROM $2)",
            {"size", "38"});
  ExpectSql("attributes.size < 38", "((c.attributes ->> $1::text) < $2)", {"size", "38"});
  ExpectSql("attributes.size <= 38", "((c.attributes ->> $1::text) <= $2)", {"size", "38"});
  ExpectSql("attributes.size > 38", "((c.attributes ->> $1::text) > $2)", {"size", "38"});
  ExpectSql("attributes.size >= 38", "((c.attributes ->> $1::text) >= $2)", {"size", "38"});
  ExpectSql("attributes.size:\"3\"", "((c.attributes ->> $1::text) ILIKE $2 ESCAPE '\\')",
            {"size", "%3%"});
  ExpectSql("attributes.size = 3*", "((c.attributes ->> $1::text) LIKE $2 ESCAPE '\\')",
            {"size", "3%"});
  ExpectSql("attributes.shoe-size.eu_2 = 44", "((c.attributes ->> $1::text) = $2)",
            {"shoe-size.eu_2", "44"});
}

TEST(FilterTest, StringMapKeys) {
  ExpectSql("attributes.size:*", "(c.attributes ? $1::text)", {"size"});
  ExpectSql("attributes:size", "(c.attributes ? $1::text)", {"size"});
  // Any key can be tested through the value position.
  ExpectSql("attributes:\"shoe size (EU)\"", "(c.attributes ? $1::text)", {"shoe size (EU)"});
  EXPECT_EQ(Error("attributes = size"),
            "at position 11: compare a key of map field 'attributes', e.g. attributes.size = "
            "\"38\", or test for one with attributes:size");
  EXPECT_EQ(Error("attributes.a;b = 1"),
            "at position 11: invalid key 'a;b' of map field 'attributes' (letters, digits, '_', "
            "'-' and '.'; or use attributes:\"any key\")");
  EXPECT_EQ(Error("attributes. = 1"),
            "at position 11: invalid key '' of map field 'attributes' (letters, digits, '_', "
            "'-' and '.'; or use attributes:\"any key\")");
  EXPECT_EQ(Error("attributes:si*"),
            "at position 11: the '*' wildcard is not supported in key names; write \\* inside "
            "quotes for a literal '*'");
}

// ----------------------------------------------------------------------------------------------
// Quoting

TEST(FilterTest, QuotedStringsAndEscapes) {
  ExpectSql(R"(name = "say \"hi\"")", "(c.name = $1)", {"say \"hi\""});
  ExpectSql(R"(name = 'it\'s')", "(c.name = $1)", {"it's"});
  ExpectSql(R"(name = "it's")", "(c.name = $1)", {"it's"});
  ExpectSql(R"(name = 'say "hi"')", "(c.name = $1)", {"say \"hi\""});
  ExpectSql(R"(name = "a\\b")", "(c.name = $1)", {"a\\b"});
  ExpectSql(R"(name = "a\nb\tc")", "(c.name = $1)", {"a\nb\tc"});
  ExpectSql(R"(name = "AND OR NOT ( ) = :")", "(c.name = $1)", {"AND OR NOT ( ) = :"});
  ExpectSql("name = \"Zoë 名前\"", "(c.name = $1)", {"Zoë 名前"});
  ExpectSql("name = Zoë", "(c.name = $1)", {"Zoë"});
}

TEST(FilterTest, QuotingErrors) {
  EXPECT_EQ(Error(R"(name = "abc)"), "at position 7: unterminated string");
  EXPECT_EQ(Error(R"(name = 'abc")"), "at position 7: unterminated string");
  EXPECT_EQ(Error(R"(name = "abc\)"), "at position 7: unterminated string");
  EXPECT_EQ(Error(R"(name = "a\qb")"),
            R"(at position 9: unknown escape sequence '\\q' (use \", \', \\, \n, \t or \*))");
  EXPECT_EQ(Error(R"(name = a\b)"), R"(at position 8: unexpected '\' outside a quoted string)");
  // The echo keeps a multi-byte character whole.
  EXPECT_EQ(Error("name = \"\\é\""),
            R"(at position 8: unknown escape sequence '\\é' (use \", \', \\, \n, \t or \*))");
}

// ----------------------------------------------------------------------------------------------
// Errors and where they are

TEST(FilterTest, UnknownFieldIsReportedWhereItIs) {
  EXPECT_EQ(Error("name = \"Ada\" AND colour = red"),
            absl::StrCat("at position 17: unknown field 'colour' ", kFieldList));
  // Keywords are upper case; `and` is a field name nobody has.
  EXPECT_EQ(Error("name = a and age = 1"),
            "at position 9: 'and' needs a field and comparator, "
            "e.g. name:and");
  EXPECT_EQ(Error("and = 1"), absl::StrCat("at position 0: unknown field 'and' ", kFieldList));
}

TEST(FilterTest, MissingValue) {
  EXPECT_EQ(Error("name="), "at position 5: expected a value after '='");
  EXPECT_EQ(Error("name = "), "at position 7: expected a value after '='");
  EXPECT_EQ(Error("name = )"), "at position 7: expected a value after '='");
  EXPECT_EQ(Error("name:(a OR b)"), "at position 5: expected a value after ':'");
  EXPECT_EQ(Error("name = AND"),
            "at position 7: expected a value after '=', found keyword AND (quote it to use it as "
            "a value)");
}

TEST(FilterTest, BareValuesNeedAField) {
  EXPECT_EQ(Error("foo"), "at position 0: 'foo' needs a field and comparator, e.g. name:foo");
  EXPECT_EQ(Error("name = a 42"), "at position 9: '42' needs a field and comparator, e.g. name:42");
  EXPECT_EQ(Error("\"ada lovelace\""),
            "at position 0: 'ada lovelace' needs a field and comparator, e.g. name:foo");
  EXPECT_EQ(Error("name"),
            "at position 4: expected a comparator after 'name', found the end of "
            "the filter");
  EXPECT_EQ(Error("name OR age = 1"),
            "at position 5: expected a comparator after 'name', found keyword OR");
  EXPECT_EQ(Error("\"name\" = a"), "at position 0: expected a field name, found a quoted string");
}

TEST(FilterTest, UnbalancedParentheses) {
  EXPECT_EQ(Error("(name = a"), "at position 0: unbalanced parentheses: '(' is never closed");
  EXPECT_EQ(Error("name = a AND ((age = 1)"),
            "at position 13: unbalanced parentheses: '(' is never closed");
  EXPECT_EQ(Error("name = a)"),
            "at position 8: unbalanced parentheses: ')' without a matching '('");
  EXPECT_EQ(Error(")"), "at position 0: expected a restriction, found ')'");
  EXPECT_EQ(Error("()"), "at position 1: expected a restriction, found ')'");
  EXPECT_EQ(Error("(name = a = b)"), "at position 10: unexpected '='");
}

TEST(FilterTest, MisplacedKeywordsAndOperators) {
  EXPECT_EQ(Error("AND name = a"), "at position 0: expected a restriction, found keyword AND");
  EXPECT_EQ(Error("name = a OR"),
            "at position 11: expected a restriction, found the end of the filter");
  EXPECT_EQ(Error("name = a AND OR age = 1"),
            "at position 13: expected a restriction, found keyword OR");
  EXPECT_EQ(Error("NOT"), "at position 3: expected a restriction, found the end of the filter");
  EXPECT_EQ(Error("name = a -"),
            "at position 10: expected a restriction, found the end of the filter");
  EXPECT_EQ(Error("= a"), "at position 0: expected a restriction, found '='");
  EXPECT_EQ(Error("name = a = b"), "at position 9: unexpected '='");
  EXPECT_EQ(Error("name ! a"), "at position 5: unexpected '!' (use != or NOT)");
}

TEST(FilterTest, RejectsInvalidUtf8AndNul) {
  EXPECT_EQ(Error("name = \"a\xff\""), "at position 9: invalid UTF-8");
  EXPECT_EQ(Error("name = \xc0\xaf"), "at position 7: invalid UTF-8");      // overlong '/'
  EXPECT_EQ(Error("name = \xed\xa0\x80"), "at position 7: invalid UTF-8");  // surrogate
  EXPECT_EQ(Error("name = \xe2\x82"), "at position 7: invalid UTF-8");      // truncated
  EXPECT_EQ(Error(absl::string_view("name = \"a\0b\"", 12)),
            "at position 9: NUL characters are not allowed");
}

TEST(FilterTest, LongValuesAreShortenedInErrors) {
  const std::string value(100, 'x');
  EXPECT_EQ(Error(absl::StrCat("age = ", value)),
            absl::StrCat("at position 6: expected an integer for field 'age', found '",
                         std::string(40, 'x'), "...'"));
  // The cut never splits a UTF-8 character (the description must stay valid UTF-8).
  EXPECT_EQ(Error(absl::StrCat("age = ", std::string(39, 'x'), "é")),
            absl::StrCat("at position 6: expected an integer for field 'age', found '",
                         std::string(39, 'x'), "...'"));
}

// ----------------------------------------------------------------------------------------------
// Limits

TEST(FilterTest, LengthLimit) {
  FilterLimits limits;
  limits.max_length = 20;
  EXPECT_OK(Compile("name = \"0123456789\"", limits));   // 19 bytes
  EXPECT_OK(Compile("name = \"0123456789a\"", limits));  // 20 bytes
  EXPECT_EQ(Error("name = \"0123456789ab\"", limits), "too long: 21 bytes, at most 20 allowed");
  EXPECT_EQ(Error(std::string(2001, ' ')), "too long: 2001 bytes, at most 2000 allowed");
}

TEST(FilterTest, DepthLimitCountsParenthesesAndNegations) {
  FilterLimits limits;
  limits.max_depth = 3;
  EXPECT_OK(Compile("(((name = a)))", limits));
  EXPECT_OK(Compile("NOT -(name = a)", limits));
  EXPECT_OK(Compile("(name = a) (name = b) (((name = c)))", limits));  // siblings do not add up
  const std::string message = "filter nests deeper than 3 levels of parentheses and negations";
  EXPECT_EQ(Error("((((name = a))))", limits), absl::StrCat("at position 3: ", message));
  EXPECT_EQ(Error("NOT NOT NOT NOT name = a", limits), absl::StrCat("at position 12: ", message));
  EXPECT_EQ(Error("-(NOT (name = a))", limits), absl::StrCat("at position 6: ", message));
  EXPECT_EQ(Error("----name = a", limits), absl::StrCat("at position 3: ", message));
}

TEST(FilterTest, DefaultDepthLimitIsSixteen) {
  EXPECT_OK(Compile(absl::StrCat(std::string(16, '('), "name = a", std::string(16, ')'))));
  EXPECT_EQ(Error(absl::StrCat(std::string(17, '('), "name = a", std::string(17, ')'))),
            "at position 16: filter nests deeper than 16 levels of parentheses and negations");
}

TEST(FilterTest, HostileNestingFailsFast) {
  FilterLimits limits;
  limits.max_length = 1 << 20;
  for (const std::string& filter :
       {std::string(100000, '('), std::string(100000, '-'), std::string(100000, ')')}) {
    EXPECT_THAT(Compile(filter, limits), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "NOT ";
  EXPECT_THAT(Compile(absl::StrCat(nots, "name = a"), limits),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FilterTest, TermLimit) {
  FilterLimits limits;
  limits.max_terms = 3;
  EXPECT_OK(Compile("name = a OR name = b name = c", limits));
  EXPECT_EQ(Error("name = a OR name = b name = c age = 1", limits),
            "at position 30: filter has more than 3 restrictions");

  std::string filter = "age = 0";
  for (int i = 1; i < 64; ++i) absl::StrAppend(&filter, " age = ", i);
  absl::StatusOr<SqlFilter> sql = Compile(filter);
  ASSERT_OK(sql);
  EXPECT_EQ(sql->params.size(), 64u);
  EXPECT_EQ(Error(absl::StrCat(filter, " OR age = 64")),
            absl::StrCat("at position ", filter.size() + 4,
                         ": filter has more than 64 "
                         "restrictions"));
}

// ----------------------------------------------------------------------------------------------
// Injection: client text ends up in params or in an error, never in SQL.

TEST(FilterTest, InjectionInValuesBecomesParams) {
  ExpectSql(R"(name = "x'); DROP TABLE contacts; --")", "(c.name = $1)",
            {"x'); DROP TABLE contacts; --"});
  ExpectSql("name = x;DROP", "(c.name = $1)", {"x;DROP"});
  ExpectSql(R"(name:"%' OR 1=1 --")", "(c.name ILIKE $1 ESCAPE '\\')", {"%\\%' OR 1=1 --%"});
  ExpectSql(R"(tags:"a'] OR true --")", "($1 = ANY(c.tags))", {"a'] OR true --"});
  ExpectSql(R"(attributes:"k' OR true --")", "(c.attributes ? $1::text)", {"k' OR true --"});
  ExpectSql(R"(lifecycle_stage = "customer")", "(c.lifecycle_stage = $1)", {"customer"});
}

TEST(FilterTest, InjectionInFieldNamesIsAnError) {
  EXPECT_EQ(Error("name;DROP = x"),
            absl::StrCat("at position 0: unknown field 'name;DROP' ", kFieldList));
  EXPECT_EQ(Error("c.name = x"),
            absl::StrCat("at position 0: unknown field 'c.name' ", kFieldList));
  EXPECT_EQ(Error("attributes.x'y' = 1"),
            "at position 12: expected a comparator after 'attributes.x', found the string 'y'");
  EXPECT_EQ(Error("attributes.x'y = 1"), "at position 12: unterminated string");
  EXPECT_THAT(Compile("attributes.size)::text; DROP TABLE x; -- = 1"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Random token soup: every result is either INVALID_ARGUMENT or SQL made only of schema
// fragments, with placeholders numbered $1..$n in order and matching the params.
TEST(FilterTest, RandomInputNeverCrashesOrLeaksIntoSql) {
  // Fields, operators, keywords and values, some of them hostile or broken; '|' separates them.
  const std::vector<std::string> pieces = absl::StrSplit(
      "name|age|tags|attributes|attributes.size|lifecycle_stage|create_time|archived|"
      "=|!=|<|<=|>|>=|:|(|)|NOT|-|AND|OR| |\"|'|\\|*|"
      "qz|\\é|42|true|LEAD|\"2026-01-01T00:00:00Z\"|é|\xff|;DROP|$1|%",
      '|');
  uint64_t state = 0x9E3779B97F4A7C15u;
  auto next = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return static_cast<size_t>(state >> 33);
  };
  int compiled = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string filter;
    const size_t length = next() % 12;
    for (size_t k = 0; k < length; ++k) filter += pieces[next() % pieces.size()];
    absl::StatusOr<SqlFilter> sql = Compile(filter);
    if (!sql.ok()) {
      ASSERT_EQ(sql.status().code(), absl::StatusCode::kInvalidArgument) << filter;
      // Parsing the detail fails if the description echoed broken UTF-8.
      google::rpc::BadRequest bad_request;
      ASSERT_TRUE(GetDetail(sql.status(), &bad_request)) << filter;
      continue;
    }
    ++compiled;
    ASSERT_FALSE(absl::StrContains(sql->where, "DROP")) << filter;
    ASSERT_FALSE(absl::StrContains(sql->where, "qz")) << filter;
    ASSERT_FALSE(absl::StrContains(sql->where, "%")) << filter;
    ASSERT_FALSE(absl::StrContains(sql->where, "\"")) << filter;
    // Placeholders appear as $1, $2, ... in order, one per param.
    int expected = 1;
    for (size_t pos = sql->where.find('$'); pos != std::string::npos;
         pos = sql->where.find('$', pos + 1)) {
      const std::string placeholder = absl::StrCat("$", expected);
      ASSERT_EQ(sql->where.compare(pos, placeholder.size(), placeholder), 0) << filter;
      ++expected;
    }
    ASSERT_EQ(static_cast<size_t>(expected - 1), sql->params.size()) << filter;
  }
  EXPECT_GT(compiled, 100);  // the soup does produce valid filters
}

}  // namespace
}  // namespace crm::api
