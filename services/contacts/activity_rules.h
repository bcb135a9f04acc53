// Validation of activities (the timeline) and the timeline's page cursor. Pure; unit-tested.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crm/contacts/v1/activity.pb.h"

namespace crm::contacts {

inline constexpr absl::string_view kActivityPrefix = "activities/";

// Checks and completes an activity to log at `now`: kind and contact required, company and
// opportunity well-formed, occur_time defaulted to now and at most a day ahead, texts cleaned and
// within limits. Errors name the field ("activity.subject").
absl::Status NormalizeActivity(v1::Activity& activity, absl::Time now);

// "call", "email", "meeting", "note" <-> the enum.
std::string ActivityKindToText(v1::ActivityKind kind);
v1::ActivityKind ActivityKindFromText(absl::string_view text);

// Calls, emails and meetings count as contacting someone; notes do not.
bool CountsAsContact(v1::ActivityKind kind);

// Timeline keyset cursor: the last row's (occur_time, id), newest first.
struct TimelineCursor {
  int64_t occur_micros = 0;
  std::string id;  // "" for the first page
};
std::string EncodeTimelineCursor(const TimelineCursor& cursor);
absl::StatusOr<TimelineCursor> DecodeTimelineCursor(absl::string_view key);

}  // namespace crm::contacts
