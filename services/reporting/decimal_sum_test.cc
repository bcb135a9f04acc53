#include "services/reporting/decimal_sum.h"

#include <gtest/gtest.h>

namespace crm::reporting {
namespace {

TEST(DecimalSumTest, SumsExactlyAtTheLargestScaleSeen) {
  DecimalSum sum;
  EXPECT_EQ(sum.Text(), "");
  ASSERT_TRUE(sum.Add("0.1").ok());
  ASSERT_TRUE(sum.Add("0.2").ok());
  EXPECT_EQ(sum.Text(), "0.3");  // not 0.30000000000000004
  ASSERT_TRUE(sum.Add("-1000.25").ok());
  EXPECT_EQ(sum.Text(), "-999.95");
  ASSERT_TRUE(sum.Add("999.950000001").ok());
  EXPECT_EQ(sum.Text(), "0.000000001");
}

TEST(DecimalSumTest, LargeValuesStayExact) {
  DecimalSum sum;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(sum.Add("999999999999999999.999999999").ok());
  EXPECT_EQ(sum.Text(), "2999999999999999999.999999997");
  DecimalSum zero;
  ASSERT_TRUE(zero.Add("-5").ok());
  ASSERT_TRUE(zero.Add("5").ok());
  EXPECT_EQ(zero.Text(), "0");
}

TEST(DecimalSumTest, RefusesWhatIsNotADecimal) {
  DecimalSum sum;
  for (const char* bad : {"", "-", "1.", ".5", "1e5", "12a", "0.1234567891", "NaN"}) {
    EXPECT_FALSE(sum.Add(bad).ok()) << bad;
  }
  EXPECT_EQ(sum.Text(), "");
}

}  // namespace
}  // namespace crm::reporting
