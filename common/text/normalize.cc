#include "common/text/normalize.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>
#include <unicode/uidna.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/base/status_macros.h"

namespace crm::text {
namespace {

using ::i18n::phonenumbers::PhoneNumber;
using ::i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMaxEmailBytes = 254;   // RFC 5321 path limit minus the angle brackets.
constexpr size_t kMaxDomainBytes = 253;  // RFC 1035, without the trailing root dot.
constexpr size_t kMaxLabelBytes = 63;    // RFC 1035.

// Debian's Abseil has its own absl::string_view rather than an alias of std::string_view.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(ToAbsl(message));
}

std::vector<std::string_view> SplitOnDots(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t dot; (dot = text.find('.')) != std::string_view::npos;) {
    parts.push_back(text.substr(0, dot));
    text.remove_prefix(dot + 1);
  }
  parts.push_back(text);
  return parts;
}

// White_Space plus the invisible characters that copy-paste from web pages and CSV exports leave
// around values (zero-width space, byte order mark).
bool IsTrimmable(UChar32 c) {
  if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');  // ASCII's White_Space, without ICU
  return u_isUWhiteSpace(c) || c == 0x200B || c == 0xFEFF;
}

// C0/C1 controls, plus the Unicode line and paragraph separators: every field here is one line.
bool IsControl(UChar32 c) {
  if (c < 0x80) return c < 0x20 || c == 0x7F;  // ASCII's Cc, without ICU
  const int8_t type = u_charType(c);
  return type == U_CONTROL_CHAR || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR;
}

bool IsAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Checks that `raw` is well-formed UTF-8 without control characters and returns it without
// leading and trailing whitespace. Controls that are also whitespace (tab, newline) are only
// allowed at the ends, where they are trimmed.
absl::StatusOr<std::string_view> TrimAndCheck(std::string_view raw) {
  // ICU indexes with int32_t.
  if (raw.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Invalid("is too long");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data());
  const auto length = static_cast<int32_t>(raw.size());
  int32_t begin = -1;            // Start of the first non-trimmable code point.
  int32_t end = 0;               // End of the last one.
  bool control_pending = false;  // A whitespace control followed `begin`.
  for (int32_t i = 0; i < length;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return Invalid("must be valid UTF-8");
    if (IsTrimmable(c)) {
      if (begin >= 0 && IsControl(c)) control_pending = true;
      continue;
    }
    if (IsControl(c) || control_pending) return Invalid("must not contain control characters");
    if (begin < 0) begin = start;
    end = i;
  }
  if (begin < 0) return std::string_view();
  return raw.substr(begin, end - begin);
}

// True if valid UTF-8 `text` contains whitespace.
bool ContainsSpace(std::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT_OR_FFFD(bytes, i, length, c);
    if (IsTrimmable(c)) return true;
  }
  return false;
}

icu::UnicodeString FromUtf8(std::string_view text) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string ToUtf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

enum class Form { kNfc, kNfd };

const icu::Normalizer2* LoadNormalizer(const icu::Normalizer2* (*get_instance)(UErrorCode&)) {
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = get_instance(error);
  return U_SUCCESS(error) ? normalizer : nullptr;
}

absl::StatusOr<icu::UnicodeString> Normalize(Form form, const icu::UnicodeString& text) {
  // ICU's lazy loading is thread-safe, but only a function-local static makes that visible to
  // ThreadSanitizer, which does not see inside ICU.
  static const icu::Normalizer2* const nfc = LoadNormalizer(&icu::Normalizer2::getNFCInstance);
  static const icu::Normalizer2* const nfd = LoadNormalizer(&icu::Normalizer2::getNFDInstance);
  const icu::Normalizer2* normalizer = form == Form::kNfc ? nfc : nfd;
  if (normalizer == nullptr) return absl::InternalError("ICU normalization data unavailable");
  UErrorCode error = U_ZERO_ERROR;
  icu::UnicodeString out = normalizer->normalize(text, error);
  if (U_FAILURE(error)) {
    return absl::InternalError(absl::StrCat("ICU normalization failed: ", u_errorName(error)));
  }
  return out;
}

// libphonenumber's default logger prints to stdout, outside our logging. The first call installs a
// NullLogger so no input can make the library write there; the function-local static makes that
// happen exactly once even when requests race. SetLogger deletes the logger it replaces, so if
// other code uses libphonenumber concurrently, call IsValidRegionCode once at startup.
// Canonical caseless form (Unicode §3.13 D145): the decomposed form folded, composed again.
// ASCII is its own NFD and NFC and folds by lower-casing, so most input never reaches ICU.
absl::StatusOr<std::string> CaselessForm(std::string_view text) {
  if (IsAscii(text)) return absl::AsciiStrToLower(ToAbsl(text));
  ASSIGN_OR_RETURN(icu::UnicodeString decomposed, Normalize(Form::kNfd, FromUtf8(text)));
  decomposed.foldCase(U_FOLD_CASE_DEFAULT);
  ASSIGN_OR_RETURN(const icu::UnicodeString composed, Normalize(Form::kNfc, decomposed));
  return ToUtf8(composed);
}

const PhoneNumberUtil& PhoneUtil() {
  static const PhoneNumberUtil* const util = [] {
    PhoneNumberUtil* instance = PhoneNumberUtil::GetInstance();
    instance->SetLogger(new i18n::phonenumbers::NullLogger());  // Takes ownership.
    return instance;
  }();
  return *util;
}

// Parses `text` as dialled in `region` and requires a number that is assigned in its plan.
absl::StatusOr<PhoneNumber> ParseValidPhone(const std::string& text, const std::string& region) {
  const PhoneNumberUtil& util = PhoneUtil();
  PhoneNumber number;
  switch (util.Parse(text, region, &number)) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return Invalid("has an unknown country calling code");
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return Invalid("too short for a phone number");
    case PhoneNumberUtil::TOO_LONG_NSN:
      return Invalid("too long for a phone number");
    case PhoneNumberUtil::NOT_A_NUMBER:
    default:
      return Invalid("not a phone number");
  }
  if (!util.IsValidNumber(number)) {
    // With an explicit country code the region played no part, so do not blame it.
    if (number.country_code() != util.GetCountryCodeForRegion(region)) {
      return Invalid(absl::StrCat("not a valid phone number for country calling code +",
                                  number.country_code()));
    }
    return Invalid(absl::StrCat("not a valid phone number for region ", region));
  }
  return number;
}

// UTS #46 processing as browsers do it: non-transitional, so "ß" is not mapped to "ss", with the
// bidi rule against confusable right-to-left labels, and with the CONTEXTJ rule: non-transitional
// keeps zero-width joiners, and without it "ex<ZWJ>ample.com" would pass as a new company.
const UIDNA* Uts46() {
  static const UIDNA* const idna = [] {
    UErrorCode error = U_ZERO_ERROR;
    UIDNA* opened = uidna_openUTS46(
        UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ, &error);
    return U_SUCCESS(error) ? opened : nullptr;
  }();
  return idna;
}

// Applies UTS #46 ToASCII: maps (lower-cases, NFC, full-width dots) and punycode-encodes.
absl::StatusOr<std::string> ToAsciiDomain(std::string_view host) {
  const UIDNA* idna = Uts46();
  if (idna == nullptr) return absl::InternalError("ICU IDNA unavailable");
  std::string out(kMaxDomainBytes + 2, '\0');  // Room for a trailing dot; grown if needed.
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode error = U_ZERO_ERROR;
  const auto convert = [&] {
    return uidna_nameToASCII_UTF8(idna, host.data(), static_cast<int32_t>(host.size()), out.data(),
                                  static_cast<int32_t>(out.size()), &info, &error);
  };
  int32_t size = convert();
  if (error == U_BUFFER_OVERFLOW_ERROR) {
    out.resize(size);
    info = UIDNA_INFO_INITIALIZER;
    error = U_ZERO_ERROR;
    size = convert();
  }
  if (U_FAILURE(error)) {
    return absl::InternalError(absl::StrCat("ICU IDNA failed: ", u_errorName(error)));
  }
  const uint32_t errors = info.errors;
  if (errors & UIDNA_ERROR_EMPTY_LABEL) return Invalid("must not contain empty labels");
  if (errors & UIDNA_ERROR_LABEL_TOO_LONG) return Invalid("labels must be at most 63 characters");
  if (errors & UIDNA_ERROR_DOMAIN_NAME_TOO_LONG) return Invalid("must be at most 253 characters");
  if (errors & (UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN)) {
    return Invalid("labels must not start or end with a hyphen");
  }
  if (errors != 0) return Invalid("not a valid domain name");
  out.resize(size);
  return out;
}

// Checks the host-name rules (RFC 1123) on the ASCII form, which ICU does not fully enforce
// without STD3 rules (e.g. it lets "_" through).
absl::Status CheckAsciiDomain(std::string_view domain) {
  if (domain.empty()) return Invalid("must not be empty");
  if (domain.size() > kMaxDomainBytes) return Invalid("must be at most 253 characters");
  const std::vector<std::string_view> labels = SplitOnDots(domain);
  if (labels.size() < 2) return Invalid("must contain a dot");
  for (std::string_view label : labels) {
    if (label.empty()) return Invalid("must not contain empty labels");
    if (label.size() > kMaxLabelBytes) return Invalid("labels must be at most 63 characters");
    for (char c : label) {
      if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
        return Invalid("must contain only letters, digits, hyphens and dots");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return Invalid("labels must not start or end with a hyphen");
    }
  }
  // No top-level domain is all-numeric (RFC 3696 §2), so this catches IPv4 in any notation.
  const std::string_view tld = labels.back();
  if (std::all_of(tld.begin(), tld.end(), absl::ascii_isdigit)) {
    return Invalid("must be a domain name, not an IP address");
  }
  return absl::OkStatus();
}

// Reduces a URL or bare host to its host: drops scheme, userinfo, port, path, query and fragment.
absl::StatusOr<std::string_view> ExtractHost(std::string_view text) {
  // A scheme counts only before the first '/', '?' or '#' ("acme.com/?u=http://x" keeps acme.com).
  const size_t scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos && scheme_end > 0 &&
      scheme_end == text.find_first_of(":/?#")) {
    text.remove_prefix(scheme_end + 3);
  } else if (text.starts_with("//")) {
    text.remove_prefix(2);
  }
  text = text.substr(0, text.find_first_of("/?#"));
  if (const size_t at = text.rfind('@'); at != std::string_view::npos) text.remove_prefix(at + 1);
  if (text.starts_with("[")) return Invalid("must be a domain name, not an IP address");
  if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = text.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) {
      return Invalid("has an invalid port");
    }
    text = text.substr(0, colon);
  }
  if (text.empty()) return Invalid("must contain a host name");
  return text;
}

const std::set<std::string, std::less<>>& SupportedRegions() {
  static const auto* const regions = [] {
    std::set<std::string> supported;
    PhoneUtil().GetSupportedRegions(&supported);
    return new std::set<std::string, std::less<>>(supported.begin(), supported.end());
  }();
  return *regions;
}

}  // namespace

absl::StatusOr<std::string> NormalizeEmail(std::string_view raw) {
  ASSIGN_OR_RETURN(const std::string_view trimmed, TrimAndCheck(raw));
  if (trimmed.empty()) return Invalid("must not be empty");
  // Quoted local parts may hold spaces and '@', but nobody registers such mailboxes: treating them
  // as errors keeps the rules below simple and catches pasted junk.
  if (ContainsSpace(trimmed)) return Invalid("must not contain spaces");
  if (std::count(trimmed.begin(), trimmed.end(), '@') != 1) {
    return Invalid("must contain exactly one '@'");
  }

  // Canonical caseless matching (Unicode §3.13 D145) folds the decomposed form; NFC afterwards
  // gives one spelling per equivalence class. Full folding maps "ß" to "ss" and "ﬁ" to "fi":
  // deliberate, since for duplicate detection a false match beats a missed one. Dots and "+tags"
  // stay: whether they matter is up to each mail provider.
  ASSIGN_OR_RETURN(std::string email, CaselessForm(trimmed));

  const size_t at = email.find('@');
  const std::string_view local = std::string_view(email).substr(0, at);
  const std::string_view domain = std::string_view(email).substr(at + 1);
  if (local.empty()) return Invalid("must have a local part before '@'");
  if (domain.empty()) return Invalid("must have a domain after '@'");
  if (domain.find('.') == std::string_view::npos) return Invalid("domain must contain a dot");
  for (std::string_view label : SplitOnDots(domain)) {
    if (label.empty()) return Invalid("domain must not contain empty labels");
  }
  // Checked on the result, which is what gets stored: folding can grow it, NFC can shrink it.
  if (email.size() > kMaxEmailBytes) return Invalid("must be at most 254 bytes");
  return email;
}

std::string FoldCase(std::string_view text) {
  absl::StatusOr<std::string> folded = CaselessForm(text);
  return folded.ok() ? *std::move(folded) : std::string(text);
}

absl::StatusOr<std::string> NormalizePhone(std::string_view raw, std::string_view default_region) {
  if (!IsValidRegionCode(default_region)) {
    return Invalid(
        absl::StrCat("unknown region code \"", absl::CHexEscape(ToAbsl(default_region)), "\""));
  }
  ASSIGN_OR_RETURN(const std::string_view trimmed, TrimAndCheck(raw));
  if (trimmed.empty()) return Invalid("must not be empty");

  const std::string text(trimmed);
  const std::string region(default_region);
  absl::StatusOr<PhoneNumber> number = ParseValidPhone(text, region);
  // libphonenumber only strips the region's own international prefix ("011" in the US), but
  // people abroad write the common "00". Fall back to it only when the local reading fails, so a
  // region whose prefix differs (e.g. "0011" in AU) keeps its own interpretation.
  if (!number.ok() && text.starts_with("00")) {
    absl::StatusOr<PhoneNumber> international = ParseValidPhone("+" + text.substr(2), region);
    if (international.ok()) number = std::move(international);
  }
  if (!number.ok()) return number.status();

  // E.164 has no extension, so "ext. 12" is dropped and numbers differing only there collide.
  std::string e164;
  PhoneUtil().Format(*number, PhoneNumberUtil::E164, &e164);
  return e164;
}

absl::StatusOr<std::string> NormalizeDomain(std::string_view raw) {
  ASSIGN_OR_RETURN(const std::string_view trimmed, TrimAndCheck(raw));
  if (trimmed.empty()) return Invalid("must not be empty");
  ASSIGN_OR_RETURN(const std::string_view host, ExtractHost(trimmed));
  ASSIGN_OR_RETURN(std::string domain, ToAsciiDomain(host));
  // One trailing dot is the DNS root ("acme.com." is "acme.com"); it is removed after conversion
  // so that ideographic full stops ("。") are covered too.
  if (domain.ends_with('.')) domain.pop_back();
  RETURN_IF_ERROR(CheckAsciiDomain(domain));
  // "www." is a host on the company's domain, not a different company. Kept when it is the
  // company's own name ("www.com"). Every leading one goes, so the result is its own normal form
  // ("www.www.acme.com" is "acme.com", not "www.acme.com" which would normalise further).
  while (domain.starts_with("www.") && domain.find('.', 4) != std::string::npos) {
    domain.erase(0, 4);
  }
  return domain;
}

bool IsValidRegionCode(std::string_view region) { return SupportedRegions().contains(region); }

absl::StatusOr<std::string> CleanText(std::string_view raw, size_t max_chars) {
  ASSIGN_OR_RETURN(const std::string_view trimmed, TrimAndCheck(raw));
  std::string text;
  size_t chars = 0;
  if (IsAscii(trimmed)) {  // already NFC, one character per byte
    text = std::string(trimmed);
    chars = text.size();
  } else {
    ASSIGN_OR_RETURN(const icu::UnicodeString composed, Normalize(Form::kNfc, FromUtf8(trimmed)));
    text = ToUtf8(composed);
    chars = static_cast<size_t>(composed.countChar32());
  }
  // Counted after NFC, on what is stored; a user-perceived "é" may be one or two code points.
  if (chars > max_chars) {
    return Invalid(absl::StrCat("must be at most ", max_chars, " characters"));
  }
  return text;
}

}  // namespace crm::text
