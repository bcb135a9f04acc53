#include "services/gateway/path_template.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace crm::gateway {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(absl::string_view text, bool keep_slash, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    const char c = static_cast<char>(hi * 16 + lo);
    if (keep_slash && c == '/') {
      out->append(text.data() + i, 3);
    } else {
      out->push_back(c);
    }
    i += 2;
  }
  return true;
}

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  if (!absl::StartsWith(text, "/")) {
    return absl::InvalidArgumentError(absl::StrCat("template must start with '/': ", text));
  }
  absl::string_view rest = text.substr(1);
  // The verb follows the last segment, outside any variable.
  size_t depth = 0, verb_at = absl::string_view::npos;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '{') ++depth;
    if (rest[i] == '}') --depth;
    if (rest[i] == ':' && depth == 0) verb_at = i;
  }
  if (verb_at != absl::string_view::npos) {
    t.verb_ = std::string(rest.substr(verb_at + 1));
    rest = rest.substr(0, verb_at);
  }
  // Split on '/' outside braces.
  std::vector<std::string> pieces;
  std::string current;
  depth = 0;
  for (char c : rest) {
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c == '/' && depth == 0) {
      pieces.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  pieces.push_back(current);
  auto add_plain = [&t](const std::string& piece) -> absl::Status {
    if (piece.empty()) return absl::InvalidArgumentError("empty segment in template");
    if (piece == "*") {
      t.segments_.push_back({Kind::kStar, ""});
    } else if (piece == "**") {
      t.segments_.push_back({Kind::kDoubleStar, ""});
    } else {
      t.segments_.push_back({Kind::kLiteral, piece});
    }
    return absl::OkStatus();
  };
  for (const std::string& piece : pieces) {
    if (absl::StartsWith(piece, "{")) {
      if (!absl::EndsWith(piece, "}")) return absl::InvalidArgumentError("unclosed variable");
      const std::string inner = piece.substr(1, piece.size() - 2);
      const size_t eq = inner.find('=');
      Variable v;
      v.field_path = inner.substr(0, eq);
      v.first = t.segments_.size();
      if (eq == std::string::npos) {
        t.segments_.push_back({Kind::kStar, ""});
      } else {
        for (absl::string_view sub : absl::StrSplit(inner.substr(eq + 1), '/')) {
          if (absl::Status s = add_plain(std::string(sub)); !s.ok()) return s;
        }
      }
      v.end = t.segments_.size();
      t.variables_.push_back(v);
    } else if (absl::Status s = add_plain(piece); !s.ok()) {
      return s;
    }
  }
  // The http rule grammar allows "**" only as the last segment; elsewhere matching would have
  // to backtrack over every split of the path.
  for (size_t i = 0; i + 1 < t.segments_.size(); ++i) {
    if (t.segments_[i].kind == Kind::kDoubleStar) {
      return absl::InvalidArgumentError("'**' must be the last segment of a template");
    }
  }
  return t;
}

bool PathTemplate::MatchFrom(const std::vector<std::string>& parts, size_t segment, size_t part,
                             std::vector<size_t>& starts) const {
  starts[segment] = part;
  if (segment == segments_.size()) return part == parts.size();
  const Segment& s = segments_[segment];
  if (s.kind == Kind::kDoubleStar) {
    // "**" is the last segment (Parse makes sure): it takes the rest of the path.
    for (size_t end = parts.size(); end > part; --end) {
      if (MatchFrom(parts, segment + 1, end, starts)) return true;
    }
    return false;
  }
  if (part >= parts.size()) return false;
  if (s.kind == Kind::kLiteral && parts[part] != s.literal) return false;
  if (parts[part].empty()) return false;
  return MatchFrom(parts, segment + 1, part + 1, starts);
}

std::optional<std::vector<std::pair<std::string, std::string>>> PathTemplate::Match(
    absl::string_view path) const {
  if (!absl::StartsWith(path, "/")) return std::nullopt;
  absl::string_view rest = path.substr(1);
  if (!verb_.empty()) {
    const std::string suffix = absl::StrCat(":", verb_);
    if (!absl::EndsWith(rest, suffix)) return std::nullopt;
    rest.remove_suffix(suffix.size());
  } else {
    // A colon in the last segment is a verb this template does not have.
    const size_t last_slash = rest.rfind('/');
    const absl::string_view last =
        last_slash == absl::string_view::npos ? rest : rest.substr(last_slash + 1);
    if (absl::StrContains(last, ':')) return std::nullopt;
  }
  std::vector<std::string> parts = absl::StrSplit(rest, '/');
  std::vector<size_t> starts(segments_.size() + 1, 0);
  if (!MatchFrom(parts, 0, 0, starts)) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> bindings;
  for (const Variable& v : variables_) {
    const size_t from = starts[v.first], to = starts[v.end];
    const bool multi =
        to - from > 1 || (v.end - v.first == 1 && segments_[v.first].kind == Kind::kDoubleStar);
    std::vector<std::string> decoded;
    for (size_t i = from; i < to; ++i) {
      std::string value;
      if (!PercentDecode(parts[i], multi, &value)) return std::nullopt;
      decoded.push_back(std::move(value));
    }
    bindings.emplace_back(v.field_path, absl::StrJoin(decoded, "/"));
  }
  return bindings;
}

std::vector<std::string> PathTemplate::FieldPaths() const {
  std::vector<std::string> out;
  for (const Variable& v : variables_) out.push_back(v.field_path);
  return out;
}

int PathTemplate::Specificity() const {
  int literals = 0;
  for (const Segment& s : segments_) literals += s.kind == Kind::kLiteral;
  return literals * 4 + (verb_.empty() ? 0 : 2) - (variables_.empty() ? 0 : 1);
}

}  // namespace crm::gateway
