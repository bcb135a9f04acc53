#include "services/reporting/decimal_sum.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace crm::reporting {
namespace {

constexpr int kMaxScale = 9;
constexpr size_t kMaxIntegerDigits = 27;  // |sum| < 10^27 keeps x 10^9 inside int128

bool AllDigits(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isdigit(c); });
}

}  // namespace

absl::Status DecimalSum::Add(absl::string_view decimal) {
  absl::string_view rest = decimal;
  const bool negative = absl::ConsumePrefix(&rest, "-");
  const size_t point = rest.find('.');
  const absl::string_view integer = rest.substr(0, point);
  const absl::string_view fraction =
      point == absl::string_view::npos ? absl::string_view() : rest.substr(point + 1);
  if (integer.empty() || !AllDigits(integer) || !AllDigits(fraction) ||
      (point != absl::string_view::npos && fraction.empty()) ||
      fraction.size() > static_cast<size_t>(kMaxScale) || integer.size() > kMaxIntegerDigits) {
    return absl::InvalidArgumentError(absl::StrCat("not a decimal this sum takes: ", decimal));
  }
  absl::int128 value = 0;
  for (char c : integer) value = value * 10 + (c - '0');
  for (int i = 0; i < kMaxScale; ++i) {
    value = value * 10 + (i < static_cast<int>(fraction.size()) ? fraction[i] - '0' : 0);
  }
  nanos_ += negative ? -value : value;
  scale_ = std::max(scale_, static_cast<int>(fraction.size()));
  any_ = true;
  return absl::OkStatus();
}

std::string DecimalSum::Text() const {
  if (!any_) return "";
  const bool negative = nanos_ < 0;
  absl::uint128 magnitude = negative ? absl::uint128(-(nanos_ + 1)) + 1 : absl::uint128(nanos_);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude > 0);
  while (digits.size() <= static_cast<size_t>(kMaxScale)) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());
  const size_t point = digits.size() - kMaxScale;
  std::string text = digits.substr(0, point);
  if (scale_ > 0) absl::StrAppend(&text, ".", digits.substr(point, scale_));
  const bool zero = text.find_first_not_of("0.") == std::string::npos;
  return negative && !zero ? absl::StrCat("-", text) : text;
}

}  // namespace crm::reporting
