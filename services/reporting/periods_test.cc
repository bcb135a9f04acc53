#include "services/reporting/periods.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace crm::reporting {
namespace {

Period Resolve(v1::PeriodKind kind, const std::string& anchor, int fiscal_start = 1) {
  v1::ReportSpec spec;
  spec.set_period(kind);
  spec.set_anchor_date(anchor);
  auto period = ResolvePeriod(spec, absl::CivilDay(2026, 11, 26), fiscal_start);
  EXPECT_TRUE(period.ok()) << period.status();
  return period.value_or(Period{});
}

std::string Text(const Period& p) { return DayText(p.from) + ".." + DayText(p.to); }

TEST(PeriodsTest, CalendarPeriods) {
  // 2027-01-01 is a Friday: its ISO week starts on Monday 2026-12-28, across the year boundary.
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_WEEK, "2027-01-01")), "2026-12-28..2027-01-04");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_WEEK, "2026-11-30")), "2026-11-30..2026-12-07");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_MONTH, "2024-02-10")), "2024-02-01..2024-03-01");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_QUARTER, "2026-11-26")), "2026-10-01..2027-01-01");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_YEAR, "2026-11-26")), "2026-01-01..2027-01-01");
  // Today when no anchor is given.
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_MONTH, "")), "2026-11-01..2026-12-01");
}

TEST(PeriodsTest, FiscalPeriodsFollowTheStartMonth) {
  // Fiscal year starting in April: FY quarter 3 is October to December.
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_FISCAL_QUARTER, "2026-11-26", 4)),
            "2026-10-01..2027-01-01");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_FISCAL_QUARTER, "2027-02-14", 4)),
            "2027-01-01..2027-04-01");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_FISCAL_YEAR, "2027-02-14", 4)), "2026-04-01..2027-04-01");
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_FISCAL_YEAR, "2026-04-01", 4)), "2026-04-01..2027-04-01");
  // Starting in February: quarters Feb-Apr, May-Jul, Aug-Oct, Nov-Jan.
  EXPECT_EQ(Text(Resolve(v1::PERIOD_KIND_FISCAL_QUARTER, "2027-01-31", 2)),
            "2026-11-01..2027-02-01");
}

TEST(PeriodsTest, CustomRangesAndErrors) {
  v1::ReportSpec spec;
  spec.set_period(v1::PERIOD_KIND_CUSTOM);
  spec.set_from_date("2026-03-01");
  spec.set_to_date("2026-03-29");
  auto period = ResolvePeriod(spec, absl::CivilDay(2026, 11, 26), 1);
  ASSERT_OK(period.status());
  EXPECT_EQ(Text(*period), "2026-03-01..2026-03-29");
  EXPECT_EQ(*BucketOf(spec, *period), "day");
  spec.set_to_date("2026-02-01");
  EXPECT_THAT(ResolvePeriod(spec, absl::CivilDay(2026, 11, 26), 1).status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  spec.set_to_date("2026-13-01");
  EXPECT_NE(
      ResolvePeriod(spec, absl::CivilDay(2026, 11, 26), 1).status().message().find("spec.to_date"),
      std::string::npos);
  v1::ReportSpec none;
  EXPECT_THAT(ResolvePeriod(none, absl::CivilDay(2026, 11, 26), 1).status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PeriodsTest, PreviousPeriodIsTheOneThatJustEnded) {
  auto previous = PreviousPeriod(v1::PERIOD_KIND_MONTH, absl::CivilDay(2027, 1, 1), 1);
  ASSERT_OK(previous.status());
  EXPECT_EQ(Text(*previous), "2026-12-01..2027-01-01");
  previous = PreviousPeriod(v1::PERIOD_KIND_WEEK, absl::CivilDay(2027, 1, 4), 1);
  EXPECT_EQ(Text(*previous), "2026-12-28..2027-01-04");
  EXPECT_FALSE(PreviousPeriod(v1::PERIOD_KIND_CUSTOM, absl::CivilDay(2027, 1, 4), 1).ok());
}

TEST(PeriodsTest, DefaultBuckets) {
  v1::ReportSpec spec;
  spec.set_period(v1::PERIOD_KIND_YEAR);
  EXPECT_EQ(*BucketOf(spec, Period{}), "month");
  spec.set_period(v1::PERIOD_KIND_MONTH);
  EXPECT_EQ(*BucketOf(spec, Period{}), "week");
  spec.set_period(v1::PERIOD_KIND_WEEK);
  EXPECT_EQ(*BucketOf(spec, Period{}), "day");
  spec.set_bucket("hour");
  EXPECT_FALSE(BucketOf(spec, Period{}).ok());
}

}  // namespace
}  // namespace crm::reporting
