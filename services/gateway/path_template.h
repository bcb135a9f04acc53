// google.api.http path templates ("/v1/{contact.name=contacts/*}:merge"): parsed once, matched
// against request paths, yielding the field paths they bind. Pure; unit-tested.
//
//   Template = "/" Segments [ Verb ] ;   Segments = Segment { "/" Segment } ;
//   Segment  = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;   Verb = ":" LITERAL ;
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::gateway {

class PathTemplate final {
 public:
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  // (field path, value) for each variable, or nullopt when `path` (no query string) does not
  // match. Values are percent-decoded; a multi-segment value keeps its slashes ("contacts/12").
  std::optional<std::vector<std::pair<std::string, std::string>>> Match(
      absl::string_view path) const;

  const std::string& text() const { return text_; }
  // Field paths the template binds ("contact.name").
  std::vector<std::string> FieldPaths() const;
  // Literal segments first: routes are tried from the most specific.
  int Specificity() const;

 private:
  enum class Kind { kLiteral, kStar, kDoubleStar };
  struct Segment {
    Kind kind;
    std::string literal;
  };
  struct Variable {
    std::string field_path;
    size_t first = 0, end = 0;  // segments [first, end)
  };
  bool MatchFrom(const std::vector<std::string>& parts, size_t segment, size_t part,
                 std::vector<size_t>& starts) const;

  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

// Percent-decodes `text`; false for malformed escapes. `keep_slash` leaves "%2F" as is.
bool PercentDecode(absl::string_view text, bool keep_slash, std::string* out);

}  // namespace crm::gateway
