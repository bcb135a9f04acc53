// Splitting one fuzzer input into the several values a target needs, without losing bytes: the
// fuzzer mutates the whole input, and each part stays printable in the committed seed corpus.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace crm::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Debian's Abseil has its own string_view type.
inline absl::string_view Absl(std::string_view view) { return {view.data(), view.size()}; }

// The input cut at each '\n' (at most `max_parts` parts; the last keeps any further newlines).
inline std::vector<std::string> SplitLines(std::string_view input, size_t max_parts) {
  std::vector<std::string> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t end = input.find('\n');
    if (end == std::string_view::npos) break;
    parts.emplace_back(input.substr(0, end));
    input.remove_prefix(end + 1);
  }
  parts.emplace_back(input);
  return parts;
}

// Whether `text` is well-formed UTF-8 (what a proto3 string, and so every error message, must be).
inline bool IsUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = text[i];
    const size_t length = lead < 0x80           ? 1
                          : (lead >> 5) == 0x6  ? 2
                          : (lead >> 4) == 0xE  ? 3
                          : (lead >> 3) == 0x1E ? 4
                                                : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

// A fuzz target's own assertion: a broken invariant is a crash the fuzzer records.
#define CRM_FUZZ_CHECK(condition)                                                      \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      __builtin_fprintf(stderr, "invariant broken at %s:%d: %s\n", __FILE__, __LINE__, \
                        #condition);                                                   \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

}  // namespace crm::fuzz
