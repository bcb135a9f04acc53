#include "common/fields/value_normalizers.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "common/text/normalize.h"

namespace crm::fields {
namespace {

std::string_view View(absl::string_view s) { return std::string_view(s.data(), s.size()); }

}  // namespace

Normalizers StandardNormalizers(std::string phone_region) {
  Normalizers n;
  n.text = [](absl::string_view value, size_t max_chars) {
    return text::CleanText(View(value), max_chars);
  };
  n.email = [](absl::string_view email) { return text::NormalizeEmail(View(email)); };
  n.phone = [region =
                 std::move(phone_region)](absl::string_view phone) -> absl::StatusOr<std::string> {
    if (!region.empty()) return text::NormalizePhone(View(phone), region);
    if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(phone), "+")) {
      return absl::InvalidArgumentError(
          "write the number in international form (\"+374...\"): no default region applies here");
    }
    return text::NormalizePhone(View(phone), "US");  // the "+" decides; any region parses it
  };
  return n;
}

}  // namespace crm::fields
