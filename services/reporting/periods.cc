#include "services/reporting/periods.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/api/errors.h"

namespace crm::reporting {
namespace {

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text, absl::string_view field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return api::InvalidField(field, "a date as YYYY-MM-DD");
  }
  return day;
}

// The first month of the (fiscal) quarter or year containing `month`.
absl::CivilMonth StartOf(absl::CivilMonth month, int months_per_period, int first_month) {
  const int offset = static_cast<int>((month.month() - first_month + 12) % 12);
  return month - offset % months_per_period;
}

Period MonthsFrom(absl::CivilMonth start, int months) {
  return {absl::CivilDay(start), absl::CivilDay(start + months)};
}

Period PeriodContaining(v1::PeriodKind kind, absl::CivilDay day, int fiscal_start) {
  const absl::CivilMonth month(day);
  switch (kind) {
    case v1::PERIOD_KIND_WEEK: {
      // ISO weeks start on Monday.
      const int since_monday =
          (static_cast<int>(absl::GetWeekday(day)) + 7 - static_cast<int>(absl::Weekday::monday)) %
          7;
      return {day - since_monday, day - since_monday + 7};
    }
    case v1::PERIOD_KIND_MONTH:
      return MonthsFrom(month, 1);
    case v1::PERIOD_KIND_QUARTER:
      return MonthsFrom(StartOf(month, 3, 1), 3);
    case v1::PERIOD_KIND_YEAR:
      return MonthsFrom(StartOf(month, 12, 1), 12);
    case v1::PERIOD_KIND_FISCAL_QUARTER:
      return MonthsFrom(StartOf(month, 3, fiscal_start), 3);
    case v1::PERIOD_KIND_FISCAL_YEAR:
      return MonthsFrom(StartOf(month, 12, fiscal_start), 12);
    default:
      return {day, day + 1};
  }
}

}  // namespace

std::string DayText(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

absl::StatusOr<Period> ResolvePeriod(const v1::ReportSpec& spec, absl::CivilDay today,
                                     int fiscal_year_start_month) {
  if (fiscal_year_start_month < 1 || fiscal_year_start_month > 12) fiscal_year_start_month = 1;
  if (spec.period() == v1::PERIOD_KIND_CUSTOM) {
    absl::StatusOr<absl::CivilDay> from = ParseDay(spec.from_date(), "spec.from_date");
    if (!from.ok()) return from.status();
    absl::StatusOr<absl::CivilDay> to = ParseDay(spec.to_date(), "spec.to_date");
    if (!to.ok()) return to.status();
    if (*to <= *from) return api::InvalidField("spec.to_date", "must be after from_date");
    if (*to - *from > 3660) return api::InvalidField("spec.to_date", "at most ten years");
    return Period{*from, *to};
  }
  if (spec.period() == v1::PERIOD_KIND_UNSPECIFIED || !v1::PeriodKind_IsValid(spec.period())) {
    return api::InvalidField("spec.period", "week, month, quarter, year, fiscal or custom");
  }
  absl::CivilDay anchor = today;
  if (!spec.anchor_date().empty()) {
    absl::StatusOr<absl::CivilDay> parsed = ParseDay(spec.anchor_date(), "spec.anchor_date");
    if (!parsed.ok()) return parsed.status();
    anchor = *parsed;
  }
  return PeriodContaining(spec.period(), anchor, fiscal_year_start_month);
}

absl::StatusOr<Period> PreviousPeriod(v1::PeriodKind kind, absl::CivilDay day,
                                      int fiscal_year_start_month) {
  if (kind == v1::PERIOD_KIND_UNSPECIFIED || kind == v1::PERIOD_KIND_CUSTOM ||
      !v1::PeriodKind_IsValid(kind)) {
    return api::InvalidField("schedule.spec.period",
                             "a repeating period: week, month, quarter, year or fiscal");
  }
  const Period current = PeriodContaining(kind, day, fiscal_year_start_month);
  return PeriodContaining(kind, current.from - 1, fiscal_year_start_month);
}

absl::StatusOr<std::string> BucketOf(const v1::ReportSpec& spec, const Period& period) {
  if (!spec.bucket().empty()) {
    if (spec.bucket() != "day" && spec.bucket() != "week" && spec.bucket() != "month" &&
        spec.bucket() != "quarter") {
      return api::InvalidField("spec.bucket", "day, week, month or quarter");
    }
    return spec.bucket();
  }
  switch (spec.period()) {
    case v1::PERIOD_KIND_WEEK:
      return std::string("day");
    case v1::PERIOD_KIND_MONTH:
      return std::string("week");
    case v1::PERIOD_KIND_CUSTOM:
      return std::string(period.to - period.from > 62 ? "month" : "day");
    default:
      return std::string("month");
  }
}

std::string BucketSql(const std::string& bucket, const std::string& local_date,
                      const std::string& fiscal_start_param) {
  if (bucket == "day") return absl::StrCat("(", local_date, ")::date");
  if (bucket == "week") return absl::StrCat("date_trunc('week', ", local_date, ")::date");
  if (bucket == "month") return absl::StrCat("date_trunc('month', ", local_date, ")::date");
  // Fiscal quarters: shift into a calendar whose year starts in January, truncate, shift back.
  const std::string shift =
      absl::StrCat("make_interval(months => ", fiscal_start_param, "::int - 1)");
  return absl::StrCat("(date_trunc('quarter', ", local_date, " - ", shift, ") + ", shift,
                      ")::date");
}

}  // namespace crm::reporting
