#include "common/db/result.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace crm::db {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

using Row = std::vector<std::optional<std::string>>;

// A PGRES_TUPLES_OK result with text columns, built in memory; std::nullopt is SQL NULL.
Result MakeResult(const std::vector<std::string>& columns, const std::vector<Row>& rows) {
  PGresult* res = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  EXPECT_NE(res, nullptr);
  std::vector<PGresAttDesc> attrs(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    attrs[i].name = const_cast<char*>(columns[i].c_str());
    attrs[i].format = 0;  // text
    attrs[i].typid = 25;  // text
    attrs[i].typlen = -1;
    attrs[i].atttypmod = -1;
  }
  EXPECT_EQ(PQsetResultAttrs(res, static_cast<int>(attrs.size()), attrs.data()), 1);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const std::optional<std::string>& value = rows[r][c];
      const int ok =
          value.has_value()
              ? PQsetvalue(res, static_cast<int>(r), static_cast<int>(c),
                           const_cast<char*>(value->data()), static_cast<int>(value->size()))
              : PQsetvalue(res, static_cast<int>(r), static_cast<int>(c), nullptr, -1);
      EXPECT_EQ(ok, 1);
    }
  }
  return Result(res);
}

// A one-cell result holding `literal`.
Result OneCell(std::optional<std::string> literal) { return MakeResult({"v"}, {{literal}}); }

std::vector<std::string> ParseArray(const std::string& literal) {
  return OneCell(literal).TextArray(0, 0);
}

// --- ToArrayLiteral ---

TEST(ToArrayLiteralTest, EmptyList) { EXPECT_EQ(ToArrayLiteral({}), "{}"); }

TEST(ToArrayLiteralTest, QuotesEveryElement) {
  EXPECT_EQ(ToArrayLiteral({"a"}), R"({"a"})");
  EXPECT_EQ(ToArrayLiteral({"a", "b"}), R"({"a","b"})");
  EXPECT_EQ(ToArrayLiteral({""}), R"({""})");
  EXPECT_EQ(ToArrayLiteral({"", ""}), R"({"",""})");
}

TEST(ToArrayLiteralTest, EscapesQuoteAndBackslash) {
  EXPECT_EQ(ToArrayLiteral({R"(say "hi")"}), R"({"say \"hi\""})");
  EXPECT_EQ(ToArrayLiteral({R"(C:\path)"}), R"({"C:\\path"})");
  EXPECT_EQ(ToArrayLiteral({R"(\")"}), R"({"\\\""})");
  EXPECT_EQ(ToArrayLiteral({"\\"}), R"({"\\"})");
}

TEST(ToArrayLiteralTest, KeepsCommasBracesAndSpacesInsideQuotes) {
  EXPECT_EQ(ToArrayLiteral({"a,b"}), R"({"a,b"})");
  EXPECT_EQ(ToArrayLiteral({"{x}"}), R"({"{x}"})");
  EXPECT_EQ(ToArrayLiteral({" padded "}), R"({" padded "})");
  EXPECT_EQ(ToArrayLiteral({"}", "{", ","}), R"({"}","{",","})");
}

TEST(ToArrayLiteralTest, KeepsNullWordAsQuotedText) {
  // Unquoted NULL would be a SQL NULL element; quoted it is the text "NULL".
  EXPECT_EQ(ToArrayLiteral({"NULL"}), R"({"NULL"})");
}

TEST(ToArrayLiteralTest, ArmenianTextUnchanged) {
  EXPECT_EQ(ToArrayLiteral({"Բարև, աշխարհ", "Երևան"}), "{\"Բարև, աշխարհ\",\"Երևան\"}");
}

// --- TextArray ---

TEST(TextArrayTest, EmptyArray) { EXPECT_THAT(ParseArray("{}"), IsEmpty()); }

TEST(TextArrayTest, NullColumnIsEmpty) {
  EXPECT_THAT(OneCell(std::nullopt).TextArray(0, 0), IsEmpty());
}

TEST(TextArrayTest, MalformedIsEmpty) {
  EXPECT_THAT(ParseArray(""), IsEmpty());
  EXPECT_THAT(ParseArray("{"), IsEmpty());
  EXPECT_THAT(ParseArray("a,b"), IsEmpty());
  EXPECT_THAT(ParseArray("[\"a\"]"), IsEmpty());
}

TEST(TextArrayTest, ParsesPostgresOutputFormat) {
  // What the server sends for ARRAY['a', 'b c', 'x"y', 'back\slash', '', 'q,r', '{}']::text[].
  EXPECT_THAT(ParseArray(R"({a,"b c","x\"y","back\\slash","","q,r","{}"})"),
              ElementsAre("a", "b c", "x\"y", "back\\slash", "", "q,r", "{}"));
  EXPECT_THAT(ParseArray("{single}"), ElementsAre("single"));
  EXPECT_THAT(ParseArray(R"({""})"), ElementsAre(""));
}

TEST(TextArrayTest, ParsesArmenianUnquoted) {
  EXPECT_THAT(ParseArray("{Երևան,Գյումրի}"), ElementsAre("Երևան", "Գյումրի"));
}

TEST(TextArrayTest, RoundTripsToArrayLiteral) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"", ""},
      {"plain"},
      {R"(say "hi")"},
      {R"(C:\path\)"},
      {"\\"},
      {"\""},
      {R"(\")"},
      {"a,b", "{c}", "d}", "{e"},
      {" leading", "trailing ", " both "},
      {"NULL", "null"},
      {"Բարև, աշխարհ", "Երևան \"Կենտրոն\"", "Ա\\Բ"},
      {"tab\there", "new\nline"},
      {",", "{", "}", "\"\"", "\\\\"},
  };
  for (const std::vector<std::string>& values : cases) {
    const std::string literal = ToArrayLiteral(values);
    SCOPED_TRACE(literal);
    EXPECT_EQ(ParseArray(literal), values);
  }
}

// --- Scalar getters ---

TEST(ResultTest, ShapeAndColumnIndex) {
  Result result = MakeResult({"id", "name"}, {{"1", "a"}, {"2", "b"}, {"3", "c"}});
  EXPECT_EQ(result.rows(), 3);
  EXPECT_EQ(result.columns(), 2);
  EXPECT_EQ(result.ColumnIndex("id"), 0);
  EXPECT_EQ(result.ColumnIndex("name"), 1);
  EXPECT_EQ(result.ColumnIndex("missing"), -1);
  EXPECT_EQ(result.String(2, 1), "c");
  EXPECT_EQ(result.Text(1, 1), "b");
}

TEST(ResultTest, DefaultConstructedIsEmpty) {
  Result result;
  EXPECT_EQ(result.rows(), 0);
  EXPECT_EQ(result.columns(), 0);
  EXPECT_EQ(result.affected(), 0);
}

TEST(ResultTest, AffectedIsZeroForSelect) { EXPECT_EQ(MakeResult({"v"}, {{"1"}}).affected(), 0); }

TEST(ResultTest, IsNull) {
  Result result = MakeResult({"a", "b", "c"}, {{std::nullopt, "", "x"}});
  EXPECT_TRUE(result.IsNull(0, 0));
  EXPECT_FALSE(result.IsNull(0, 1));  // The empty string is not NULL.
  EXPECT_FALSE(result.IsNull(0, 2));
  EXPECT_EQ(result.Text(0, 0), "");
}

TEST(ResultTest, Int) {
  Result result = MakeResult({"v"}, {{"42"},
                                     {"-7"},
                                     {"0"},
                                     {"9223372036854775807"},
                                     {"-9223372036854775808"},
                                     {std::nullopt},
                                     {"abc"},
                                     {"9223372036854775808"},
                                     {""}});
  EXPECT_EQ(result.Int(0, 0), 42);
  EXPECT_EQ(result.Int(1, 0), -7);
  EXPECT_EQ(result.Int(2, 0), 0);
  EXPECT_EQ(result.Int(3, 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(result.Int(4, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(result.Int(5, 0), 0);  // NULL
  EXPECT_EQ(result.Int(6, 0), 0);  // not a number
  EXPECT_EQ(result.Int(7, 0), 0);  // overflow
  EXPECT_EQ(result.Int(8, 0), 0);  // empty
}

TEST(ResultTest, Bool) {
  Result result = MakeResult({"v"}, {{"t"}, {"f"}, {std::nullopt}, {"true"}, {""}});
  EXPECT_TRUE(result.Bool(0, 0));
  EXPECT_FALSE(result.Bool(1, 0));
  EXPECT_FALSE(result.Bool(2, 0));  // NULL
  EXPECT_FALSE(result.Bool(3, 0));  // PostgreSQL's text format is "t"/"f" only.
  EXPECT_FALSE(result.Bool(4, 0));
}

TEST(ResultTest, TimeFromMicros) {
  Result result = MakeResult({"t"}, {{"1700000000123456"}, {"0"}, {"-1000000"}, {std::nullopt}});
  EXPECT_EQ(result.TimeFromMicros(0, 0),
            absl::FromUnixSeconds(1'700'000'000) + absl::Microseconds(123456));
  EXPECT_EQ(result.TimeFromMicros(1, 0), absl::UnixEpoch());
  EXPECT_EQ(result.TimeFromMicros(2, 0), absl::UnixEpoch() - absl::Seconds(1));
  EXPECT_EQ(result.TimeFromMicros(3, 0), absl::InfinitePast());
}

TEST(ResultTest, CopiesShareTheResult) {
  Result copy;
  {
    Result original = MakeResult({"v"}, {{"{a,b}"}});
    copy = original;
  }
  EXPECT_EQ(copy.rows(), 1);
  EXPECT_THAT(copy.TextArray(0, 0), ElementsAre("a", "b"));
}

}  // namespace
}  // namespace crm::db
