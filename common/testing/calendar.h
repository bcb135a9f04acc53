// Dates for tests that report on what they just did, so they pass on any day of the year: a
// "this week" report asked for just after midnight on Sunday no longer holds Saturday's deals.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::testing {

// "YYYY-MM-DD" of `t` in UTC (the time zone of tenants that have not set one).
inline std::string UtcDate(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone());
}

// Waits out the end of the day in each of `zones` (IANA names) when less than `room` of it is
// left there, so that whatever the test does within `room` after the call happens on one date in
// every one of them.
inline void WaitForRoomBeforeMidnight(absl::Duration room,
                                      std::initializer_list<const char*> zones = {"UTC"}) {
  for (bool waited = true; waited;) {
    waited = false;
    for (const char* name : zones) {
      absl::TimeZone zone;
      if (!absl::LoadTimeZone(name, &zone)) continue;
      const absl::Time now = absl::Now();
      const absl::Time midnight = absl::FromCivil(absl::ToCivilDay(now, zone) + 1, zone);
      if (midnight - now < room) {
        absl::SleepFor(midnight - now + absl::Milliseconds(10));
        waited = true;
      }
    }
  }
}

// Today's UTC date once at least `room` of it is left (see above): what the test does within
// `room` happens on that date, and so in its week, month, quarter and year.
inline std::string UtcDayWithRoomFor(absl::Duration room) {
  WaitForRoomBeforeMidnight(room);
  return UtcDate(absl::Now());
}

// A custom report range, [from, to) as report specs take it, holding every UTC day from the day
// before `since` to the day after tomorrow: all a test did since `since`, whatever the calendar.
inline std::pair<std::string, std::string> UtcRangeSince(absl::Time since) {
  return {UtcDate(since - absl::Hours(24)), UtcDate(absl::Now() + absl::Hours(48))};
}

}  // namespace crm::testing
