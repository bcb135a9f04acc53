#include "common/text/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/testing/status_matchers.h"

namespace crm::text {
namespace {

using ::crm::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::string_view_literals;

// Printable form of a test input for SCOPED_TRACE.
std::string Escaped(std::string_view s) {
  return absl::CHexEscape(absl::string_view(s.data(), s.size()));
}

// Like absl's IsOkAndHolds, which Debian's Abseil does not ship.
MATCHER_P(HoldsValue, expected, "is OK and holds " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status().ToString();
    return false;
  }
  *result_listener << "value is " << ::testing::PrintToString(*arg);
  return *arg == expected;
}

// Messages must say what is wrong; the caller prefixes the field name.
MATCHER_P(InvalidWithMessage, text,
          "is INVALID_ARGUMENT mentioning \"" + std::string(text) + "\"") {
  const absl::Status& status = arg.status();
  *result_listener << "status is " << status.ToString();
  return status.code() == absl::StatusCode::kInvalidArgument &&
         absl::StrContains(status.message(), text);
}

// --- NormalizeEmail ---

TEST(NormalizeEmailTest, LowerCasesAscii) {
  EXPECT_THAT(NormalizeEmail("Anna@Example.COM"), HoldsValue("anna@example.com"));
}

TEST(NormalizeEmailTest, TrimsAsciiAndUnicodeWhitespace) {
  for (std::string_view raw :
       {" anna@example.com "sv, "\t\nanna@example.com\r\n"sv, "\u00a0anna@example.com\u00a0"sv,
        "\u3000anna@example.com\u2003"sv, "\ufeffanna@example.com\u200b"sv}) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(NormalizeEmail(raw), HoldsValue("anna@example.com"));
  }
}

TEST(NormalizeEmailTest, FoldsArmenianCase) {
  const auto lower = NormalizeEmail("աննա@օրինակ.հայ");
  ASSERT_OK(lower);
  EXPECT_EQ(*lower, "աննա@օրինակ.հայ");
  EXPECT_THAT(NormalizeEmail("ԱՆՆԱ@օրինակ.հայ"), HoldsValue(*lower));
  EXPECT_THAT(NormalizeEmail("Աննա@Օրինակ.ՀԱՅ"), HoldsValue(*lower));
}

TEST(NormalizeEmailTest, FoldsCyrillicCase) {
  EXPECT_THAT(NormalizeEmail("АННА@Пример.РФ"), HoldsValue("анна@пример.рф"));
}

// Full case folding maps "ß" (and capital "ẞ") to "ss": for duplicate detection a false match
// is better than letting "Straße@" and "STRASSE@" become two contacts.
TEST(NormalizeEmailTest, FullCaseFoldingMapsSharpSToSs) {
  EXPECT_THAT(NormalizeEmail("Straße@Example.de"), HoldsValue("strasse@example.de"));
  EXPECT_THAT(NormalizeEmail("STRASSE@example.de"), HoldsValue("strasse@example.de"));
  EXPECT_THAT(NormalizeEmail("STRAẞE@example.de"), HoldsValue("strasse@example.de"));
}

TEST(NormalizeEmailTest, ComposesToNfc) {
  // "é" typed as "e" + combining acute and as the precomposed letter.
  EXPECT_THAT(NormalizeEmail("Re\u0301ne@example.fr"), HoldsValue("r\u00e9ne@example.fr"));
  EXPECT_THAT(NormalizeEmail("R\u00c9NE@example.fr"), HoldsValue("r\u00e9ne@example.fr"));
}

TEST(NormalizeEmailTest, KeepsDotsAndPlusTags) {
  EXPECT_THAT(NormalizeEmail("Anna.Petrosyan+CRM@Gmail.com"),
              HoldsValue("anna.petrosyan+crm@gmail.com"));
}

TEST(NormalizeEmailTest, AcceptsMaximumLength) {
  const std::string email = std::string(242, 'a') + "@example.com";
  ASSERT_EQ(email.size(), 254u);
  EXPECT_THAT(NormalizeEmail(email), HoldsValue(email));
}

TEST(NormalizeEmailTest, RejectsMalformedAddresses) {
  const std::string too_long = std::string(243, 'a') + "@example.com";
  for (std::string_view raw : {
           ""sv,
           " \u00a0 "sv,
           "anna.example.com"sv,        // No '@'.
           "anna@@example.com"sv,       // Two '@'.
           "anna@home@example.com"sv,   // Two '@'.
           "@example.com"sv,            // Empty local part.
           "anna@"sv,                   // Empty domain.
           "anna@localhost"sv,          // No dot in the domain.
           "anna@example..com"sv,       // Empty label.
           "anna@.example.com"sv,       // Empty label.
           "anna@example.com."sv,       // Empty label.
           "an na@example.com"sv,       // Inner space.
           "anna\u00a0@example.com"sv,  // Inner NBSP.
           "anna\xff@example.com"sv,    // Invalid UTF-8.
           "anna\xc3@example.com"sv,    // Truncated sequence.
           "anna\x01@example.com"sv,    // Control character.
           "anna\0@example.com"sv,      // NUL.
           "anna@example.com\x7f"sv,    // DEL is not whitespace: not trimmed.
           std::string_view(too_long),  // 255 bytes.
       }) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(NormalizeEmail(raw), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(NormalizeEmailTest, ChecksLengthAfterFolding) {
  // "İ" (2 bytes) folds to "i" + U+0307 (3 bytes): 253 and 254 bytes typed, 254 and 255 stored.
  EXPECT_OK(NormalizeEmail(std::string(239, 'a') + "İ@example.com"));
  EXPECT_THAT(NormalizeEmail(std::string(240, 'a') + "İ@example.com"), InvalidWithMessage("254"));
}

TEST(NormalizeEmailTest, MessagesSayWhatIsWrong) {
  EXPECT_THAT(NormalizeEmail("a@b@example.com"), InvalidWithMessage("exactly one '@'"));
  EXPECT_THAT(NormalizeEmail("anna@localhost"), InvalidWithMessage("dot"));
  EXPECT_THAT(NormalizeEmail("anna\xff@example.com"), InvalidWithMessage("UTF-8"));
  EXPECT_THAT(NormalizeEmail("anna\x01@example.com"), InvalidWithMessage("control"));
  // The address is personal data: it must not leak into logs through the message.
  EXPECT_THAT(NormalizeEmail("anna@localhost").status().message(), Not(HasSubstr("anna")));
}

// --- NormalizePhone ---

TEST(NormalizePhoneTest, FormatsArmenianNumbersAsE164) {
  EXPECT_THAT(NormalizePhone("+374 91 234567", "AM"), HoldsValue("+37491234567"));
  EXPECT_THAT(NormalizePhone("091 234567", "AM"), HoldsValue("+37491234567"));
  EXPECT_THAT(NormalizePhone("(091) 23-45-67", "AM"), HoldsValue("+37491234567"));
}

TEST(NormalizePhoneTest, NationalAndInternationalFormsAreEqual) {
  EXPECT_THAT(NormalizePhone("(202) 555-0123", "US"), HoldsValue("+12025550123"));
  EXPECT_THAT(NormalizePhone("+1 202-555-0123", "US"), HoldsValue("+12025550123"));
  EXPECT_THAT(NormalizePhone("tel:+1-202-555-0123", "US"), HoldsValue("+12025550123"));
}

TEST(NormalizePhoneTest, InternationalPrefixIgnoresRegion) {
  EXPECT_THAT(NormalizePhone("+374 91 234567", "US"), HoldsValue("+37491234567"));
  EXPECT_THAT(NormalizePhone("+1 202-555-0123", "AM"), HoldsValue("+12025550123"));
  // "00" is not the US international prefix ("011"), but people write it anyway.
  EXPECT_THAT(NormalizePhone("00374 91 234567", "US"), HoldsValue("+37491234567"));
  EXPECT_THAT(NormalizePhone("00374 91 234567", "AM"), HoldsValue("+37491234567"));
  EXPECT_THAT(NormalizePhone("011 374 91 234567", "US"), HoldsValue("+37491234567"));
  // Australia dials out with "0011": its own reading wins over the "00" fallback.
  EXPECT_THAT(NormalizePhone("0011 374 91 234567", "AU"), HoldsValue("+37491234567"));
}

TEST(NormalizePhoneTest, TrimsWhitespace) {
  EXPECT_THAT(NormalizePhone("\u00a0 +374 91 234567\t\n", "AM"), HoldsValue("+37491234567"));
}

// E.164 has no extension: out of scope, so it is dropped.
TEST(NormalizePhoneTest, DropsExtension) {
  EXPECT_THAT(NormalizePhone("+1 202-555-0123 ext. 42", "US"), HoldsValue("+12025550123"));
}

TEST(NormalizePhoneTest, RejectsNonNumbers) {
  for (std::string_view raw :
       {""sv, "  "sv, "abc"sv, "123"sv, "+374 91"sv, "+999 123 456 789"sv,
        "+374 91 234567 8901234567890"sv, "091\xff 234567"sv, "091\x01 234567"sv}) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(NormalizePhone(raw, "AM"), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(NormalizePhoneTest, RejectsUnknownRegion) {
  for (std::string_view region : {"ZZ"sv, ""sv, "am"sv, "XX"sv, "001"sv, "ARM"sv}) {
    SCOPED_TRACE(Escaped(region));
    EXPECT_THAT(NormalizePhone("+374 91 234567", region), InvalidWithMessage("region"));
  }
}

TEST(NormalizePhoneTest, MessagesNameTheRegionOrCountryCode) {
  EXPECT_THAT(NormalizePhone("123", "AM"),
              InvalidWithMessage("not a valid phone number for region AM"));
  EXPECT_THAT(NormalizePhone("+1 000 000 0000", "AM"),
              InvalidWithMessage("country calling code +1"));
}

// --- IsValidRegionCode ---

TEST(IsValidRegionCodeTest, AcceptsSupportedUpperCaseRegions) {
  EXPECT_TRUE(IsValidRegionCode("AM"));
  EXPECT_TRUE(IsValidRegionCode("US"));
  EXPECT_TRUE(IsValidRegionCode("DE"));
}

TEST(IsValidRegionCodeTest, RejectsOthers) {
  // Case-sensitive so that tenant settings hold one spelling.
  for (std::string_view region : {""sv, "ZZ"sv, "am"sv, "Am"sv, "USA"sv, "001"sv, "A"sv}) {
    SCOPED_TRACE(Escaped(region));
    EXPECT_FALSE(IsValidRegionCode(region));
  }
}

// --- NormalizeDomain ---

TEST(NormalizeDomainTest, ReducesUrlsAndSpellingsToHost) {
  for (std::string_view raw : {
           "acme.com"sv,                                       // Already canonical.
           "https://www.Acme.com/about"sv,                     // URL.
           "Acme.COM."sv,                                      // Root dot.
           " acme.com "sv,                                     // Spaces.
           "WWW.acme.com"sv,                                   // Upper-case "www.".
           "http://user:secret@acme.com:8080/path?q=1#top"sv,  // Every URL part.
           "acme.com/?next=http://other.com"sv,                // "://" after the host.
           "acme.com:443"sv,                                   // Port without scheme.
           "//acme.com"sv,                                     // Scheme-relative URL.
           "acme\u3002com"sv,                                  // Ideographic full stop.
           "\uff41\uff43\uff4d\uff45.com"sv,                   // Full-width letters.
           "ac\u00adme.com"sv,                                 // Soft hyphen: ignored by UTS #46.
       }) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(NormalizeDomain(raw), HoldsValue("acme.com"));
  }
}

TEST(NormalizeDomainTest, KeepsOtherSubdomains) {
  EXPECT_THAT(NormalizeDomain("Shop.Acme.com"), HoldsValue("shop.acme.com"));
  EXPECT_THAT(NormalizeDomain("www.acme.co.uk"), HoldsValue("acme.co.uk"));
  // Every leading "www." goes: one at a time would not be idempotent ("www.www.acme.com" ->
  // "www.acme.com" -> "acme.com"), and dedup compares normalised keys (found by normalize_fuzz).
  EXPECT_THAT(NormalizeDomain("www.www.acme.com"), HoldsValue("acme.com"));
  EXPECT_THAT(NormalizeDomain("acme.com"), HoldsValue("acme.com"));
  // "www" is the company name here, not a host prefix.
  EXPECT_THAT(NormalizeDomain("www.com"), HoldsValue("www.com"));
}

TEST(NormalizeDomainTest, ConvertsInternationalisedNamesToPunycode) {
  constexpr std::string_view kPunycode = "xn--y9atn0a2c3a.xn--y9a3aq";
  EXPECT_THAT(NormalizeDomain("Օրինակ.հայ"), HoldsValue(kPunycode));
  EXPECT_THAT(NormalizeDomain("https://www.օրինակ.ՀԱՅ/"), HoldsValue(kPunycode));
  EXPECT_THAT(NormalizeDomain("XN--Y9ATN0A2C3A.xn--y9a3aq"), HoldsValue(kPunycode));
  EXPECT_THAT(NormalizeDomain("пример.рф"), HoldsValue("xn--e1afmkfd.xn--p1ai"));
  // Non-transitional: "ß" is its own letter, as browsers resolve it.
  EXPECT_THAT(NormalizeDomain("straße.de"), HoldsValue("xn--strae-oqa.de"));
}

TEST(NormalizeDomainTest, AcceptsLengthLimits) {
  const std::string label63(63, 'a');
  EXPECT_OK(NormalizeDomain(label63 + ".com"));
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_THAT(NormalizeDomain(name253), HoldsValue(name253));
  EXPECT_THAT(NormalizeDomain(name253 + "."), HoldsValue(name253));
}

// Hyphens at label edges break RFC 1123 host names, so "-bad-.com" is rejected.
TEST(NormalizeDomainTest, RejectsInvalidNames) {
  const std::string long_label = std::string(64, 'a') + ".com";
  const std::string name254 = std::string(63, 'a') + "." + std::string(63, 'a') + "." +
                              std::string(63, 'a') + "." + std::string(62, 'b');
  for (std::string_view raw : {
           ""sv,
           "   "sv,
           "localhost"sv,
           "https://localhost:8080/"sv,
           "a..b"sv,
           ".acme.com"sv,
           "acme.com.."sv,
           "192.168.0.1"sv,
           "http://10.0.0.1:80/"sv,
           "[::1]"sv,
           "http://[2001:db8::1]/"sv,
           "-bad-.com"sv,
           "bad-.com"sv,
           "-bad.com"sv,
           "ab--cd.com"sv,      // "--" at positions 3-4 is reserved for ACE prefixes.
           "xn--zzzz.com"sv,    // Not valid punycode.
           "ac\u200dme.com"sv,  // Zero-width joiner outside its CONTEXTJ context.
           "a\u05d0.com"sv,     // Mixes left-to-right and right-to-left in one label.
           "acme_corp.com"sv,
           "acme corp.com"sv,
           "acme.com:http"sv,
           "https://"sv,
           "acme\xff.com"sv,
           "acme\x01.com"sv,
           std::string_view(long_label),
           std::string_view(name254),
       }) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(NormalizeDomain(raw), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(NormalizeDomainTest, MessagesSayWhatIsWrong) {
  EXPECT_THAT(NormalizeDomain("localhost"), InvalidWithMessage("dot"));
  EXPECT_THAT(NormalizeDomain("192.168.0.1"), InvalidWithMessage("IP address"));
  EXPECT_THAT(NormalizeDomain("a..b"), InvalidWithMessage("empty labels"));
  EXPECT_THAT(NormalizeDomain("-bad-.com"), InvalidWithMessage("hyphen"));
}

// --- CleanText ---

TEST(CleanTextTest, KeepsArmenianName) {
  EXPECT_THAT(CleanText("Աննա Պետրոսյան", 100), HoldsValue("Աննա Պետրոսյան"));
}

TEST(CleanTextTest, TrimsButKeepsInnerSpaces) {
  EXPECT_THAT(CleanText(" \u00a0\tԱննա Պետրոսյան\r\n\u3000", 100), HoldsValue("Աննա Պետրոսյան"));
  EXPECT_THAT(CleanText("Anna\u00a0 Maria", 100), HoldsValue("Anna\u00a0 Maria"));
}

TEST(CleanTextTest, WhitespaceOnlyBecomesEmpty) {
  EXPECT_THAT(CleanText("", 10), HoldsValue(""));
  EXPECT_THAT(CleanText(" \t\u00a0 ", 10), HoldsValue(""));
}

TEST(CleanTextTest, NormalizesToNfc) {
  EXPECT_THAT(CleanText("Ame\u0301lie", 100), HoldsValue("Am\u00e9lie"));
}

TEST(CleanTextTest, CountsCodePointsNotBytes) {
  // 14 code points, 27 bytes.
  EXPECT_OK(CleanText("Աննա Պետրոսյան", 14));
  EXPECT_THAT(CleanText("Աննա Պետրոսյան", 13), InvalidWithMessage("at most 13 characters"));
  // Counted after NFC: five code points typed, four stored.
  EXPECT_OK(CleanText("Rene\u0301", 4));
}

TEST(CleanTextTest, RejectsInvalidUtf8) {
  for (std::string_view raw : {"\xff"sv, "Anna\xc3"sv, "\xc0\xaf"sv, "\xed\xa0\x80"sv,
                               "\xf4\x90\x80\x80"sv, "Ann\x80"sv}) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(CleanText(raw, 100), InvalidWithMessage("UTF-8"));
  }
}

TEST(CleanTextTest, RejectsControlCharacters) {
  for (std::string_view raw :
       {"Anna\x01"sv, "\x1b[31mAnna"sv, "Anna\nPetrosyan"sv, "Anna\tPetrosyan"sv, "Anna\0"sv,
        "Anna\x7f"sv, "Anna\u0085Petrosyan"sv, "Anna\u2028Petrosyan"sv, "Anna\u009b"sv}) {
    SCOPED_TRACE(Escaped(raw));
    EXPECT_THAT(CleanText(raw, 100), InvalidWithMessage("control"));
  }
}

// ASCII skips ICU. For every ASCII character, the answer (or the error) must be what ICU's path
// gives: the same text with a non-ASCII letter beside it takes ICU's path, and the letter stays
// as it is (é is precomposed, folds to itself and composes with nothing).
TEST(AsciiFastPathTest, AgreesWithIcuForEveryAsciiCharacter) {
  for (int c = 0; c < 0x80; ++c) {
    const std::string ch(1, static_cast<char>(c));
    SCOPED_TRACE(Escaped(ch));
    const absl::StatusOr<std::string> email = NormalizeEmail("An" + ch + "Na@Example.COM");
    const absl::StatusOr<std::string> icu_email =
        NormalizeEmail("An" + ch + "Na\u00e9@Example.COM");
    ASSERT_EQ(email.ok(), icu_email.ok()) << email.status() << " / " << icu_email.status();
    if (email.ok()) {
      std::string expected = *email;
      expected.insert(expected.find('@'), "\u00e9");
      EXPECT_EQ(expected, *icu_email);
    } else {
      EXPECT_EQ(email.status().message(), icu_email.status().message());
    }
    const absl::StatusOr<std::string> text = CleanText("Mc" + ch + "Kay", 100);
    const absl::StatusOr<std::string> icu_text = CleanText("Mc" + ch + "Kay\u00e9", 100);
    ASSERT_EQ(text.ok(), icu_text.ok()) << text.status() << " / " << icu_text.status();
    if (text.ok()) {
      EXPECT_EQ(*text + "\u00e9", *icu_text);
    } else {
      EXPECT_EQ(text.status().message(), icu_text.status().message());
    }
    EXPECT_EQ(FoldCase("Mc" + ch + "Kay") + "\u00e9", FoldCase("Mc" + ch + "Kay\u00e9"));
  }
  // Lengths are counted in characters on both paths.
  EXPECT_TRUE(CleanText(std::string(100, 'a'), 100).ok());
  EXPECT_FALSE(CleanText(std::string(101, 'a'), 100).ok());
}

}  // namespace
}  // namespace crm::text
