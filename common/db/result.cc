#include "common/db/result.h"

#include <cstdlib>

#include "absl/strings/numbers.h"

namespace crm::db {

int64_t Result::affected() const {
  if (!result_) return 0;
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_.get()), &n) ? n : 0;
}

absl::string_view Result::Text(int row, int col) const {
  return absl::string_view(PQgetvalue(result_.get(), row, col),
                           static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

int64_t Result::Int(int row, int col) const {
  int64_t value = 0;
  if (IsNull(row, col) || !absl::SimpleAtoi(Text(row, col), &value)) return 0;
  return value;
}

bool Result::Bool(int row, int col) const { return !IsNull(row, col) && Text(row, col) == "t"; }

absl::Time Result::TimeFromMicros(int row, int col) const {
  if (IsNull(row, col)) return absl::InfinitePast();
  return absl::FromUnixMicros(Int(row, col));
}

std::vector<std::string> Result::TextArray(int row, int col) const {
  std::vector<std::string> out;
  if (IsNull(row, col)) return out;
  absl::string_view s = Text(row, col);
  // Format: {elem,elem,...}; elements containing specials are double-quoted with \-escapes.
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return out;
  s = s.substr(1, s.size() - 2);
  size_t i = 0;
  while (i < s.size()) {
    std::string elem;
    if (s[i] == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        elem.push_back(s[i++]);
      }
      ++i;  // closing quote
    } else {
      while (i < s.size() && s[i] != ',') elem.push_back(s[i++]);
    }
    out.push_back(std::move(elem));
    if (i < s.size() && s[i] == ',') ++i;
  }
  return out;
}

std::string ToArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace crm::db
