#include "common/fields/search_words.h"

#include <gtest/gtest.h>

#include <string>

namespace crm::fields {
namespace {

TEST(SearchWordsTest, TextAndEmailValuesInKeyOrder) {
  Values values;
  values["zeta"].set_text("Last");
  values["alpha"].set_email("billing@acme.example");
  values["arr"].set_number("1000");
  values["tier"].set_option("gold");
  values["mid"].set_text("Middle words");
  EXPECT_EQ(SearchWords(values), "billing@acme.example Middle words Last");
  EXPECT_EQ(SearchWords(Values()), "");
}

TEST(SearchWordsTest, LongTextKeepsItsFirstCharactersWholeCharactersOnly) {
  Values values;
  std::string armenian;
  for (size_t i = 0; i < kSearchedTextChars + 50; ++i) armenian += "\xD5\xA1";  // "ա", 2 bytes
  values["notes"].set_text(armenian);
  const std::string words = SearchWords(values);
  EXPECT_EQ(words.size(), 2 * kSearchedTextChars);  // 200 characters, none cut in half
  values["notes"].set_text("short");
  EXPECT_EQ(SearchWords(values), "short");
}

}  // namespace
}  // namespace crm::fields
