#include "common/fields/search_words.h"

#include <map>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace crm::fields {
namespace {

// The first `chars` characters of UTF-8 text (as PostgreSQL's left() counts them).
absl::string_view Prefix(absl::string_view text, size_t chars) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool starts_char = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
    if (starts_char && seen++ == chars) return text.substr(0, i);
  }
  return text;
}

}  // namespace

std::string SearchWords(const Values& values) {
  std::map<absl::string_view, absl::string_view> by_key;  // Values is unordered
  for (const auto& [key, value] : values) {
    if (value.kind_case() == Value::kText) {
      by_key[key] = Prefix(value.text(), kSearchedTextChars);
    } else if (value.kind_case() == Value::kEmail) {
      by_key[key] = value.email();
    }
  }
  return absl::StrJoin(by_key, " ", [](std::string* out, const auto& entry) {
    out->append(entry.second.data(), entry.second.size());
  });
}

}  // namespace crm::fields
