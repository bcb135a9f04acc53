#include "services/contacts/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/testing/status_matchers.h"

namespace crm::contacts {

// Readable rows in failure messages (found by ADL, hence outside the anonymous namespace).
void PrintTo(const CsvRow& row, std::ostream* os) {
  *os << "{" << row.number << ", [";
  for (const std::string& field : row.fields) *os << "\"" << absl::CHexEscape(field) << "\" ";
  *os << "], \"" << row.error << "\"}";
}

namespace {

using ::crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Cells = std::vector<std::string>;

MATCHER_P2(IsRow, number, fields, "") {
  return arg.number == number && arg.error.empty() && arg.fields == Cells(fields);
}

MATCHER_P2(IsBadRow, number, error, "") {
  return arg.number == number && arg.fields.empty() && arg.error == std::string(error);
}

// Reads `data` fed in chunks of the given sizes (the last one repeated); the whole file if none.
std::vector<CsvRow> ReadChunked(absl::string_view data, std::vector<size_t> sizes,
                                CsvLimits limits = {}) {
  CsvReader reader(limits);
  std::vector<CsvRow> rows;
  if (sizes.empty()) sizes.push_back(data.size());
  size_t next = 0;
  while (!data.empty()) {
    const size_t size = std::max<size_t>(1, sizes[std::min(next++, sizes.size() - 1)]);
    EXPECT_OK(reader.Feed(data.substr(0, size), &rows));
    data.remove_prefix(std::min(size, data.size()));
  }
  EXPECT_OK(reader.Finish(&rows));
  return rows;
}

std::vector<CsvRow> Read(absl::string_view data, CsvLimits limits = {}) {
  return ReadChunked(data, {}, limits);
}

std::vector<size_t> RandomSizes(std::mt19937& random, size_t count, size_t max) {
  std::uniform_int_distribution<size_t> size(1, max);
  std::vector<size_t> sizes;
  for (size_t i = 0; i < count; ++i) sizes.push_back(size(random));
  return sizes;
}

using RowTuple = std::tuple<int64_t, Cells, std::string>;

std::vector<RowTuple> Tuples(const std::vector<CsvRow>& rows) {
  std::vector<RowTuple> out;
  for (const CsvRow& row : rows) out.emplace_back(row.number, row.fields, row.error);
  return out;
}

TEST(CsvReaderTest, ReadsRowsWithLineNumbers) {
  EXPECT_THAT(
      Read("name,email\nAnna,anna@example.com\nBob,bob@example.com\n"),
      ElementsAre(IsRow(1, Cells{"name", "email"}), IsRow(2, Cells{"Anna", "anna@example.com"}),
                  IsRow(3, Cells{"Bob", "bob@example.com"})));
}

TEST(CsvReaderTest, QuotedFieldsKeepCommasQuotesAndNewlines) {
  EXPECT_THAT(Read("name,note,tags\n"
                   "\"Petrosyan, Anna\",\"She said \"\"call me\"\"\",\"a\nb\"\n"
                   "Bob,,x\n"),
              ElementsAre(IsRow(1, Cells{"name", "note", "tags"}),
                          IsRow(2, Cells{"Petrosyan, Anna", "She said \"call me\"", "a\nb"}),
                          IsRow(4, Cells{"Bob", "", "x"})));
}

TEST(CsvReaderTest, LineNumbersCountLineBreaksInsideQuotes) {
  EXPECT_THAT(
      Read("h1,h2\r\n\"one\r\ntwo\rthree\nfour\",x\r\nlast,row\r\n"),
      ElementsAre(IsRow(1, Cells{"h1", "h2"}), IsRow(2, Cells{"one\r\ntwo\rthree\nfour", "x"}),
                  IsRow(6, Cells{"last", "row"})));
}

TEST(CsvReaderTest, AcceptsLfCrLfAndCrLineEndings) {
  for (absl::string_view newline : {"\n", "\r\n", "\r"}) {
    SCOPED_TRACE(absl::CHexEscape(newline));
    const std::string data = absl::StrCat("a,b", newline, "c,d", newline, newline, "e,f", newline);
    EXPECT_THAT(Read(data), ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(2, Cells{"c", "d"}),
                                        IsRow(4, Cells{"e", "f"})));
  }
  EXPECT_THAT(Read("a\r\nb\rc\nd"), ElementsAre(IsRow(1, Cells{"a"}), IsRow(2, Cells{"b"}),
                                                IsRow(3, Cells{"c"}), IsRow(4, Cells{"d"})));
}

TEST(CsvReaderTest, SkipsEmptyLinesAndRowsOfEmptyCellsButCountsThem) {
  EXPECT_THAT(Read("a,b\n\n   \n\t\n,,,\n \"\" , \"\"\r\n\nc,d\n\n"),
              ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(8, Cells{"c", "d"})));
}

TEST(CsvReaderTest, TrimsUnquotedFieldsOnly) {
  EXPECT_THAT(Read(" Anna \t, \" Petrosyan \" ,x\n"),
              ElementsAre(IsRow(1, Cells{"Anna", " Petrosyan ", "x"})));
}

TEST(CsvReaderTest, StripsByteOrderMark) {
  EXPECT_THAT(
      Read("\xEF\xBB\xBFname,email\nAnna,a@example.com\n"),
      ElementsAre(IsRow(1, Cells{"name", "email"}), IsRow(2, Cells{"Anna", "a@example.com"})));
}

TEST(CsvReaderTest, StripsByteOrderMarkSplitAcrossChunks) {
  const absl::string_view data = "\xEF\xBB\xBFname\nAnna\n";
  for (const std::vector<size_t>& sizes : std::vector<std::vector<size_t>>{{1}, {2}, {1, 1, 2}}) {
    EXPECT_THAT(ReadChunked(data, sizes),
                ElementsAre(IsRow(1, Cells{"name"}), IsRow(2, Cells{"Anna"})));
  }
  CsvReader reader;
  std::vector<CsvRow> rows;
  ASSERT_OK(reader.Feed("", &rows));
  ASSERT_OK(reader.Feed("\xEF", &rows));
  ASSERT_OK(reader.Feed("", &rows));
  ASSERT_OK(reader.Feed("\xBB\xBF", &rows));
  ASSERT_OK(reader.Feed("x", &rows));
  ASSERT_OK(reader.Finish(&rows));
  EXPECT_THAT(rows, ElementsAre(IsRow(1, Cells{"x"})));
}

TEST(CsvReaderTest, StripsOnlyALeadingByteOrderMark) {
  EXPECT_THAT(Read("a\n\xEF\xBB\xBF"
                   "b\n"),
              ElementsAre(IsRow(1, Cells{"a"}), IsRow(2, Cells{"\xEF\xBB\xBF"
                                                               "b"})));
  // Starts like a BOM but is not one: the bytes are data (here invalid UTF-8).
  EXPECT_THAT(ReadChunked("\xEF\xBBx,y\n", {1}),
              ElementsAre(IsBadRow(1, "row 1: field 1 is not valid UTF-8")));
  EXPECT_THAT(Read("\xEF\xBB"), ElementsAre(IsBadRow(1, "row 1: field 1 is not valid UTF-8")));
  EXPECT_THAT(Read("\xEF\xBB\xBF"), IsEmpty());
}

TEST(CsvReaderTest, ReadsArmenianAndCyrillicNames) {
  EXPECT_THAT(ReadChunked("Անուն,Ազգանուն\nԱնի,Պետրոսյան\n\"Иван, мл.\",Петров\n", {1}),
              ElementsAre(IsRow(1, Cells{"Անուն", "Ազգանուն"}), IsRow(2, Cells{"Անի", "Պետրոսյան"}),
                          IsRow(3, Cells{"Иван, мл.", "Петров"})));
}

TEST(CsvReaderTest, EmptyInputHasNoRows) {
  EXPECT_THAT(Read(""), IsEmpty());
  EXPECT_THAT(Read("\n\r\n  \n"), IsEmpty());
}

TEST(CsvReaderTest, FlushesLastRowWithoutLineBreak) {
  EXPECT_THAT(Read("a,b\nc,d"), ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(2, Cells{"c", "d"})));
  EXPECT_THAT(Read("a,b\nc,"), ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(2, Cells{"c", ""})));
  EXPECT_THAT(Read("a,b\n\"c\",\"d\""),
              ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(2, Cells{"c", "d"})));
}

TEST(CsvReaderTest, ReportsUnterminatedQuoteAtEndOfFile) {
  EXPECT_THAT(Read("a,b\nc,\"open\nmore"),
              ElementsAre(IsRow(1, Cells{"a", "b"}),
                          IsBadRow(2, "row 2: field 2 has an opening quote that is never closed")));
}

TEST(CsvReaderTest, ReportsMisplacedQuotesAndReadsFollowingRows) {
  EXPECT_THAT(
      Read("name,email\n"
           "O\"Brien,ob@example.com\n"
           "Anna,anna@example.com\n"
           "\"Bob\"by,bob@example.com\n"
           "Carl,\"Carl \"the\" Great\",x\n"
           "Dana,dana@example.com\n"
           "\"Eve\" \"x\",eve@example.com\n"
           "Finn,finn@example.com"),
      ElementsAre(
          IsRow(1, Cells{"name", "email"}),
          IsBadRow(2,
                   "row 2: field 1 has a misplaced quote (a quoted field must end at a comma "
                   "or line break, and a quote inside it is written twice)"),
          IsRow(3, Cells{"Anna", "anna@example.com"}),
          IsBadRow(4,
                   "row 4: field 1 has a misplaced quote (a quoted field must end at a comma "
                   "or line break, and a quote inside it is written twice)"),
          IsBadRow(5,
                   "row 5: field 2 has a misplaced quote (a quoted field must end at a comma "
                   "or line break, and a quote inside it is written twice)"),
          IsRow(6, Cells{"Dana", "dana@example.com"}),
          IsBadRow(7,
                   "row 7: field 1 has a misplaced quote (a quoted field must end at a comma "
                   "or line break, and a quote inside it is written twice)"),
          IsRow(8, Cells{"Finn", "finn@example.com"})));
}

TEST(CsvReaderTest, MalformedMultiLineRowKeepsItsFirstLineNumber) {
  // The error is seen on line 3; the row started on line 2; reading resumes on line 4.
  const std::vector<CsvRow> rows = Read("h1,h2\n\"multi\nline\"x,y\nnext,row\n");
  ASSERT_EQ(rows.size(), 3);
  EXPECT_THAT(rows[0], IsRow(1, Cells{"h1", "h2"}));
  EXPECT_EQ(rows[1].number, 2);
  EXPECT_THAT(rows[1].error, HasSubstr("row 2: field 1 has a misplaced quote"));
  EXPECT_THAT(rows[2], IsRow(4, Cells{"next", "row"}));
}

TEST(CsvReaderTest, ReportsInvalidUtf8PerField) {
  for (absl::string_view bad :
       {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xD5", "\xE2\x82", "a\x80"}) {
    SCOPED_TRACE(absl::CHexEscape(bad));
    const std::string data = absl::StrCat("a,b,c\nAnna,ok,", bad, "\nBob,ok,ok\n");
    EXPECT_THAT(Read(data), ElementsAre(IsRow(1, Cells{"a", "b", "c"}),
                                        IsBadRow(2, "row 2: field 3 is not valid UTF-8"),
                                        IsRow(3, Cells{"Bob", "ok", "ok"})));
  }
}

TEST(CsvReaderTest, EnforcesFieldSizeLimit) {
  CsvLimits limits;
  limits.max_field_bytes = 8;
  EXPECT_THAT(Read("12345678,\"Անի\"\n123456789,x\nok,fine\n", limits),
              ElementsAre(IsRow(1, Cells{"12345678", "Անի"}),
                          IsBadRow(2, "row 2: field 1 is longer than 8 bytes"),
                          IsRow(3, Cells{"ok", "fine"})));
}

TEST(CsvReaderTest, AbandonsAFieldFarOverTheLimitWithoutBufferingIt) {
  // An unterminated quote would otherwise swallow the rest of the file into one field.
  CsvLimits limits;
  limits.max_field_bytes = 8;
  const std::string data =
      absl::StrCat("h\nx,\"", std::string(200, 'y'), "\nnext,row\n", "y\"z,w\nlast\n");
  for (size_t chunk : {data.size(), size_t{1}, size_t{7}}) {
    SCOPED_TRACE(chunk);
    EXPECT_THAT(
        ReadChunked(data, {chunk}, limits),
        ElementsAre(IsRow(1, Cells{"h"}), IsBadRow(2, "row 2: field 2 is longer than 8 bytes"),
                    IsRow(3, Cells{"next", "row"}),
                    IsBadRow(4,
                             "row 4: field 1 has a misplaced quote (a quoted field "
                             "must end at a comma or line break, and a quote inside "
                             "it is written twice)"),
                    IsRow(5, Cells{"last"})));
  }
}

TEST(CsvReaderTest, EnforcesFieldCountLimit) {
  CsvLimits limits;
  limits.max_fields = 3;
  EXPECT_THAT(Read("a,b,c\na,b,c,d\n,,,,,,,\na,b,\n", limits),
              ElementsAre(IsRow(1, Cells{"a", "b", "c"}), IsBadRow(2, "row 2: more than 3 fields"),
                          IsRow(4, Cells{"a", "b", ""})));
}

TEST(CsvReaderTest, EnforcesTotalSizeLimit) {
  CsvLimits limits;
  limits.max_total_bytes = 10;
  CsvReader reader(limits);
  std::vector<CsvRow> rows;
  ASSERT_OK(reader.Feed("a,b\n", &rows));
  ASSERT_OK(reader.Feed("c,d\nef", &rows));
  EXPECT_THAT(reader.Feed("\n", &rows), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(reader.Feed("", &rows), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(reader.Finish(&rows), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(rows, ElementsAre(IsRow(1, Cells{"a", "b"}), IsRow(2, Cells{"c", "d"})));
}

TEST(CsvReaderTest, RejectsInputAfterFinish) {
  CsvReader reader;
  std::vector<CsvRow> rows;
  ASSERT_OK(reader.Finish(&rows));
  EXPECT_THAT(reader.Feed("a\n", &rows), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader.Finish(&rows), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(CsvReaderTest, SameRowsWhateverTheChunkBoundaries) {
  const std::string data = absl::StrCat(
      "\xEF\xBB\xBFname,email,note\r\n",
      "Անի Պետրոսյան,ani@example.am,\"Երևան, \"\"Կենտրոն\"\"\r\nsecond line\"\r\n", "\r\n",
      "Иван Петров,ivan@example.ru,\"\"\r\n", "O\"Brien,ob@example.com,x\r\n", "   ,  ,  \r\n",
      "bad,\xC3\x28,utf8\n", "\"multi\rline\" , cr@example.com ,\"a,b\"\r", "\"quoted\"junk,x,y\n",
      std::string(300, 'z'), ",long,row\n", "last,\"no newline\",\"𝄞 \xE2\x82\xAC\"");
  CsvLimits limits;
  limits.max_field_bytes = 100;
  const std::vector<RowTuple> expected = Tuples(Read(data, limits));
  ASSERT_EQ(expected.size(), 9);
  EXPECT_EQ(std::get<0>(expected.back()), 13);
  EXPECT_EQ(Tuples(ReadChunked(data, {1}, limits)), expected);
  std::mt19937 random(20240611);
  for (int i = 0; i < 50; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(Tuples(ReadChunked(data, RandomSizes(random, data.size(), 1 + i % 23), limits)),
              expected);
  }
}

TEST(CsvReaderTest, RandomInputReadsTheSameWhateverTheChunkBoundaries) {
  // Quotes, separators, line breaks, multi-byte and invalid bytes, and long runs that trip the
  // field limits: every malformation must be reported identically however the input is split.
  const std::vector<std::string> tokens = {"a",
                                           "b",
                                           " ",
                                           ",",
                                           ",",
                                           "\"",
                                           "\"",
                                           "\n",
                                           "\r",
                                           "\r\n",
                                           "\xD5\xA1",
                                           "\xFF",
                                           std::string(40, 'x')};
  CsvLimits limits;
  limits.max_field_bytes = 6;
  limits.max_fields = 4;
  std::mt19937 random(4180);
  std::uniform_int_distribution<size_t> token(0, tokens.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 120);
  for (int i = 0; i < 300; ++i) {
    std::string data = i % 3 == 0 ? "\xEF\xBB\xBF" : "";
    for (size_t n = length(random); n > 0; --n) data += tokens[token(random)];
    SCOPED_TRACE(absl::CHexEscape(data));
    const std::vector<CsvRow> rows = Read(data, limits);
    int64_t previous = 0;
    for (const CsvRow& row : rows) {
      EXPECT_GT(row.number, previous);
      EXPECT_NE(row.fields.empty(), row.error.empty());
      previous = row.number;
    }
    const std::vector<RowTuple> expected = Tuples(rows);
    EXPECT_EQ(Tuples(ReadChunked(data, {1}, limits)), expected);
    EXPECT_EQ(Tuples(ReadChunked(data, RandomSizes(random, data.size(), 9), limits)), expected);
  }
}

}  // namespace
}  // namespace crm::contacts
