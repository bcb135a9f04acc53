#include "services/contacts/activity_rules.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/ids/uuid.h"
#include "common/text/normalize.h"
#include "services/contacts/contact_rules.h"

namespace crm::contacts {
namespace {

absl::Status CleanActivityText(std::string* value, size_t max_chars, absl::string_view field) {
  auto cleaned = text::CleanText(*value, max_chars);
  if (!cleaned.ok()) {
    return api::InvalidField(absl::StrCat("activity.", field), cleaned.status().message());
  }
  *value = *std::move(cleaned);
  return absl::OkStatus();
}

// Bodies are free text: unlike names they may hold line breaks and tabs.
absl::Status CheckBody(const std::string& body) {
  if (body.size() > 4 * 20000)
    return api::InvalidField("activity.body", "at most 20000 characters");
  std::string flattened = body;
  for (char& c : flattened) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  auto cleaned = text::CleanText(flattened, 20000);
  if (!cleaned.ok()) return api::InvalidField("activity.body", cleaned.status().message());
  return absl::OkStatus();
}

}  // namespace

absl::Status NormalizeActivity(v1::Activity& activity, absl::Time now) {
  if (activity.kind() == v1::ACTIVITY_KIND_UNSPECIFIED ||
      !v1::ActivityKind_IsValid(activity.kind())) {
    return api::InvalidField("activity.kind", "required: CALL, EMAIL, MEETING or NOTE");
  }
  RETURN_IF_ERROR(ParseResourceId(activity.contact(), kContactPrefix, "activity.contact").status());
  if (!activity.company().empty()) {
    RETURN_IF_ERROR(
        ParseResourceId(activity.company(), kCompanyPrefix, "activity.company").status());
  }
  if (activity.opportunity().size() > 128 ||
      (!activity.opportunity().empty() && activity.opportunity().rfind("deals/", 0) != 0)) {
    return api::InvalidField("activity.opportunity", "must look like deals/{deal}");
  }
  if (!activity.has_occur_time()) {
    activity.mutable_occur_time()->set_seconds(absl::ToUnixSeconds(now));
  }
  const absl::Time occur = absl::FromUnixSeconds(activity.occur_time().seconds()) +
                           absl::Nanoseconds(activity.occur_time().nanos());
  if (occur > now + absl::Hours(24) ||
      occur < absl::FromCivil(absl::CivilDay(1900, 1, 1), absl::UTCTimeZone())) {
    return api::InvalidField("activity.occur_time", "must be after 1900 and at most a day ahead");
  }
  // Stored with microsecond precision, like every timestamp in PostgreSQL.
  activity.mutable_occur_time()->set_nanos(activity.occur_time().nanos() / 1000 * 1000);
  if (activity.duration().seconds() < 0 || activity.duration().nanos() < 0 ||
      activity.duration().seconds() > 7 * 24 * 3600) {
    return api::InvalidField("activity.duration", "must be between 0 and 7 days");
  }
  RETURN_IF_ERROR(CleanActivityText(activity.mutable_outcome(), 200, "outcome"));
  RETURN_IF_ERROR(CleanActivityText(activity.mutable_subject(), 200, "subject"));
  return CheckBody(activity.body());
}

std::string ActivityKindToText(v1::ActivityKind kind) {
  switch (kind) {
    case v1::ACTIVITY_KIND_CALL:
      return "call";
    case v1::ACTIVITY_KIND_EMAIL:
      return "email";
    case v1::ACTIVITY_KIND_MEETING:
      return "meeting";
    case v1::ACTIVITY_KIND_NOTE:
      return "note";
    default:
      return "";
  }
}

v1::ActivityKind ActivityKindFromText(absl::string_view text) {
  v1::ActivityKind kind = v1::ACTIVITY_KIND_UNSPECIFIED;
  v1::ActivityKind_Parse(absl::StrCat("ACTIVITY_KIND_", absl::AsciiStrToUpper(text)), &kind);
  return kind;
}

bool CountsAsContact(v1::ActivityKind kind) { return kind != v1::ACTIVITY_KIND_NOTE; }

std::string EncodeTimelineCursor(const TimelineCursor& cursor) {
  return absl::StrCat(cursor.occur_micros, "/", cursor.id);
}

absl::StatusOr<TimelineCursor> DecodeTimelineCursor(absl::string_view key) {
  std::vector<std::string> parts = absl::StrSplit(key, '/');
  TimelineCursor cursor;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &cursor.occur_micros) ||
      !ids::IsCanonicalUuid(parts[1])) {
    return api::InvalidField("page_token", "malformed page token");
  }
  cursor.id = parts[1];
  return cursor;
}

}  // namespace crm::contacts
