// Normalisation of contact, company and custom field values into the canonical forms services keep
// unique per tenant (email, phone, company domain), plus cleaning of free-text names.
//
// All functions are pure and thread-safe. On bad input they return INVALID_ARGUMENT whose message
// says what is wrong without naming the field (the caller adds it, e.g. via api::InvalidField)
// and without echoing the value, which is personal data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace crm::text {

// Returns the comparison key of an email address: trimmed, fully case-folded and in NFC, so
// "Anna@Example.COM" and "anna@example.com" collide. Keep the address as entered for sending mail:
// folding is lossy (e.g. "ß" becomes "ss"). Dots and "+tags" are kept: they are provider-specific.
absl::StatusOr<std::string> NormalizeEmail(std::string_view raw);

// Unicode full case folding plus NFC, for comparing names written in any script
// ("ANNA" and "anna", "ԱՆՆԱ" and "աննա"). Invalid UTF-8 comes back unchanged.
std::string FoldCase(std::string_view text);

// Returns the number in E.164 ("+37491234567"). Numbers are read as dialled in `default_region`
// ("AM", "US"; must satisfy IsValidRegionCode) unless they start with "+", or with "00" and are
// not valid as dialled there. Extensions are dropped, as E.164 has none.
absl::StatusOr<std::string> NormalizePhone(std::string_view raw, std::string_view default_region);

// Returns the host name of a company website as lower-case ASCII, internationalised names in
// punycode ("acme.com", "xn--y9atn0a2c3a.xn--y9a3aq"). Accepts URLs; drops leading "www." labels.
absl::StatusOr<std::string> NormalizeDomain(std::string_view raw);

// True for the upper-case region codes libphonenumber has metadata for ("AM", "US").
bool IsValidRegionCode(std::string_view region);

// Trims Unicode/ASCII whitespace, rejects invalid UTF-8 and control characters, converts to NFC and
// rejects results longer than `max_chars` code points. Input that is only whitespace yields "":
// whether a field is required is the caller's decision.
absl::StatusOr<std::string> CleanText(std::string_view raw, size_t max_chars);

}  // namespace crm::text
