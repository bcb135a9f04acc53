// Whether a client-supplied time zone is an IANA name ("Asia/Yerevan", "UTC", "Etc/GMT+4") that
// the zone database knows. absl::LoadTimeZone alone would also take a file path ("/etc/passwd",
// "../../proc/self/environ") and read it: names with a leading '/', "..", or characters no zone
// name has are refused before it is asked.
#pragma once

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace crm {

inline bool IsIanaZoneName(const std::string& zone) {
  if (zone.empty() || zone.size() > 64 || zone[0] == '/' || absl::StrContains(zone, "..") ||
      absl::StrContains(zone, "//")) {
    return false;
  }
  for (char c : zone) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  absl::TimeZone loaded;
  return absl::LoadTimeZone(zone, &loaded);
}

}  // namespace crm
