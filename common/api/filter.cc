#include "common/api/filter.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"

namespace crm::api {
namespace {

constexpr absl::string_view kField = "filter";

// Client text echoed in errors is escaped and shortened so a message stays one readable line.
// The input is valid UTF-8 by then; the cut backs up to a character boundary so it stays so.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxEcho = 40;
  const bool cut = text.size() > kMaxEcho;
  if (cut) {
    size_t end = kMaxEcho;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  return absl::StrCat("'", absl::Utf8SafeCHexEscape(text), cut ? "...'" : "'");
}

// Bytes in the UTF-8 character starting at `s[i]`.
size_t CharLength(absl::string_view s, size_t i) {
  size_t end = i + 1;
  while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
  return end - i;
}

absl::Status ErrorAt(size_t pos, absl::string_view what) {
  return InvalidField(kField, absl::StrCat("at position ", pos, ": ", what));
}

// Offset of the first byte that is not well-formed UTF-8, or npos. PostgreSQL would reject such
// a parameter at execution time, which would surface as an internal error instead of a 400.
size_t InvalidUtf8At(absl::string_view s) {
  static constexpr uint32_t kMinCodePoint[] = {0, 0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((lead & 0xE0) == 0xC0) {
      len = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4;
      cp = lead & 0x07;
    } else {
      return i;
    }
    if (s.size() - i < len) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char next = s[i + k];
      if ((next & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (next & 0x3F);
    }
    if (cp < kMinCodePoint[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return absl::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Lexer

enum class TokenKind { kEnd, kLParen, kRParen, kComparator, kWord, kString };

struct Token {
  TokenKind kind;
  size_t pos;        // byte offset in the filter
  std::string text;  // words and comparators as written; strings unescaped
  // The value ends in an unescaped '*', i.e. a wildcard ("\*" in a string is a literal star).
  bool trailing_star = false;
};

bool IsSpace(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

// Bare words run until whitespace or a character with a meaning of its own.
bool IsWordChar(char c) {
  return !IsSpace(c) && absl::string_view("()\"'=!<>:\\").find(c) == absl::string_view::npos;
}

// Lexes the quoted string starting at `*i` and advances `*i` past its closing quote.
absl::StatusOr<Token> LexString(absl::string_view in, size_t* i) {
  const size_t start = *i;
  const char quote = in[start];
  Token token{TokenKind::kString, start, ""};
  ++*i;
  while (true) {
    if (*i >= in.size()) return ErrorAt(start, "unterminated string");
    const char c = in[*i];
    if (c == quote) {
      ++*i;
      return token;
    }
    if (c != '\\') {
      token.text += c;
      token.trailing_star = c == '*';
      ++*i;
      continue;
    }
    if (*i + 1 >= in.size()) return ErrorAt(start, "unterminated string");
    const char escaped = in[*i + 1];
    switch (escaped) {
      case '"':
      case '\'':
      case '\\':
      case '*':
        token.text += escaped;
        break;
      case 'n':
        token.text += '\n';
        break;
      case 't':
        token.text += '\t';
        break;
      default:
        return ErrorAt(*i, absl::StrCat("unknown escape sequence ",
                                        Quote(in.substr(*i, 1 + CharLength(in, *i + 1))),
                                        " (use \\\", \\', \\\\, \\n, \\t or \\*)"));
    }
    token.trailing_star = false;
    *i += 2;
  }
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view in) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < in.size() && IsSpace(in[i])) ++i;
    if (i == in.size()) break;
    const size_t start = i;
    const char c = in[i];
    if (c == '(' || c == ')') {
      tokens.push_back({c == '(' ? TokenKind::kLParen : TokenKind::kRParen, start, {c}});
      ++i;
    } else if (c == '=' || c == ':') {
      tokens.push_back({TokenKind::kComparator, start, {c}});
      ++i;
    } else if (c == '<' || c == '>' || c == '!') {
      const bool with_equals = i + 1 < in.size() && in[i + 1] == '=';
      if (c == '!' && !with_equals) return ErrorAt(start, "unexpected '!' (use != or NOT)");
      i += with_equals ? 2 : 1;
      tokens.push_back({TokenKind::kComparator, start, std::string(in.substr(start, i - start))});
    } else if (c == '"' || c == '\'') {
      ASSIGN_OR_RETURN(Token token, LexString(in, &i));
      tokens.push_back(std::move(token));
    } else if (c == '\\') {
      return ErrorAt(start, "unexpected '\\' outside a quoted string");
    } else {
      while (i < in.size() && IsWordChar(in[i])) ++i;
      Token token{TokenKind::kWord, start, std::string(in.substr(start, i - start))};
      token.trailing_star = token.text.back() == '*';
      tokens.push_back(std::move(token));
    }
  }
  tokens.push_back({TokenKind::kEnd, in.size(), ""});
  return tokens;
}

bool IsKeyword(const Token& token) {
  return token.kind == TokenKind::kWord &&
         (token.text == "AND" || token.text == "OR" || token.text == "NOT");
}

bool IsKeyword(const Token& token, absl::string_view keyword) {
  return token.kind == TokenKind::kWord && token.text == keyword;
}

// Tokens that start a term, with which a sequence (implicit AND) continues.
bool StartsTerm(const Token& token) {
  return token.kind == TokenKind::kLParen || token.kind == TokenKind::kString ||
         (token.kind == TokenKind::kWord && !IsKeyword(token, "AND") && !IsKeyword(token, "OR"));
}

std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "the end of the filter";
    case TokenKind::kString:
      return absl::StrCat("the string ", Quote(token.text));
    case TokenKind::kWord:
      if (IsKeyword(token)) return absl::StrCat("keyword ", token.text);
      return Quote(token.text);
    default:
      return absl::StrCat("'", token.text, "'");
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree: only the boolean structure; restrictions are already SQL.

struct Node {
  enum class Kind { kLeaf, kAnd, kOr, kNot };
  Kind kind = Kind::kLeaf;
  std::string sql;  // kLeaf: a parenthesised SQL predicate
  std::vector<Node> children;
};

Node Leaf(std::string sql) { return Node{Node::Kind::kLeaf, std::move(sql), {}}; }

Node Not(Node inner) {
  Node node{Node::Kind::kNot, "", {}};
  node.children.push_back(std::move(inner));
  return node;
}

// One AND/OR node over `parts`, splicing in parts of the same kind: (a AND b) AND c is a AND b
// AND c, which keeps the SQL flat.
Node Combine(Node::Kind kind, std::vector<Node> parts) {
  if (parts.size() == 1) return std::move(parts[0]);
  Node node{kind, "", {}};
  for (Node& part : parts) {
    if (part.kind == kind) {
      for (Node& child : part.children) node.children.push_back(std::move(child));
    } else {
      node.children.push_back(std::move(part));
    }
  }
  return node;
}

// Recursion is bounded: the tree is no deeper than the nesting the parser allowed.
void Render(const Node& node, std::string* out) {
  switch (node.kind) {
    case Node::Kind::kLeaf:
      out->append(node.sql);
      return;
    case Node::Kind::kNot:
      // IS NOT TRUE rather than NOT: a predicate that is NULL (NULL column) counts as false, so
      // `-name = "x"` returns the rows without a name just like `name != "x"`.
      out->append("(");
      Render(node.children[0], out);
      out->append(" IS NOT TRUE)");
      return;
    case Node::Kind::kAnd:
    case Node::Kind::kOr:
      out->append("(");
      for (size_t i = 0; i < node.children.size(); ++i) {
        if (i > 0) out->append(node.kind == Node::Kind::kAnd ? " AND " : " OR ");
        Render(node.children[i], out);
      }
      out->append(")");
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Restrictions

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

Cmp ParseCmp(absl::string_view text) {
  if (text == "=") return Cmp::kEq;
  if (text == "!=") return Cmp::kNe;
  if (text == "<") return Cmp::kLt;
  if (text == "<=") return Cmp::kLe;
  if (text == ">") return Cmp::kGt;
  if (text == ">=") return Cmp::kGe;
  return Cmp::kHas;
}

// `lhs <cmp> rhs` for the ordered comparators; != keeps NULL rows (IS DISTINCT FROM).
std::string Compare(absl::string_view lhs, Cmp cmp, absl::string_view rhs) {
  absl::string_view op;
  switch (cmp) {
    case Cmp::kEq:
      op = "=";
      break;
    case Cmp::kNe:
      op = "IS DISTINCT FROM";
      break;
    case Cmp::kLt:
      op = "<";
      break;
    case Cmp::kLe:
      op = "<=";
      break;
    case Cmp::kGt:
      op = ">";
      break;
    case Cmp::kGe:
    case Cmp::kHas:  // never reached: callers handle ':' themselves
      op = ">=";
      break;
  }
  return absl::StrCat("(", lhs, " ", op, " ", rhs, ")");
}

// Escapes LIKE metacharacters for ESCAPE '\'.
std::string EscapeLike(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A plain word can be echoed in an example as is; anything else is replaced by "foo".
bool IsPlainWord(absl::string_view text) {
  if (text.empty() || text.size() > 40) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Map keys named in a field path ("attributes.shoe-size"); other keys go through `attributes:k`.
bool IsValidMapKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

bool IsPresence(const Token& value) { return value.trailing_star && value.text == "*"; }

// -12, 0.5, 1200.50: what PostgreSQL's numeric reads exactly, without exponents or NaN.
bool IsDecimalText(absl::string_view text) {
  absl::ConsumePrefix(&text, "-");
  const size_t point = text.find('.');
  const absl::string_view integer = text.substr(0, point);
  const absl::string_view fraction =
      point == absl::string_view::npos ? absl::string_view() : text.substr(point + 1);
  auto digits = [](absl::string_view s) {
    return !s.empty() && s.size() <= 40 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(integer) && (point == absl::string_view::npos || digits(fraction));
}

// The field a restriction names: a schema field, or a map field plus the key after its dot.
struct FieldRef {
  const FilterField* field = nullptr;
  bool has_key = false;
  std::string key;
};

FieldRef Resolve(const FilterSchema& schema, absl::string_view name) {
  for (const FilterField& field : schema.fields) {
    if (field.name == name) return {&field, false, ""};
  }
  for (const FilterField& field : schema.fields) {
    if (field.type == FilterType::kStringMap && name.size() > field.name.size() &&
        absl::StartsWith(name, field.name) && name[field.name.size()] == '.') {
      return {&field, true, std::string(name.substr(field.name.size() + 1))};
    }
  }
  return {};
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const FilterSchema& schema, int first_param,
         const FilterLimits& limits)
      : tokens_(std::move(tokens)), schema_(schema), first_param_(first_param), limits_(limits) {}

  absl::StatusOr<SqlFilter> Run() {
    if (Peek().kind == TokenKind::kEnd) return SqlFilter{};
    ASSIGN_OR_RETURN(Node root, ParseExpression());
    const Token& rest = Peek();
    if (rest.kind == TokenKind::kRParen) {
      return ErrorAt(rest.pos, "unbalanced parentheses: ')' without a matching '('");
    }
    if (rest.kind != TokenKind::kEnd) {
      return ErrorAt(rest.pos, absl::StrCat("unexpected ", Describe(rest)));
    }
    SqlFilter out;
    Render(root, &out.where);
    out.params = std::move(params_);
    return out;
  }

 private:
  Token& Peek() { return tokens_[next_]; }

  // Counts one level of nesting; called while parsing, before recursing.
  absl::Status Enter(size_t pos) {
    if (++depth_ > limits_.max_depth) {
      return ErrorAt(pos, absl::StrCat("filter nests deeper than ", limits_.max_depth,
                                       " levels of parentheses and negations"));
    }
    return absl::OkStatus();
  }

  // expression = sequence { AND sequence }
  absl::StatusOr<Node> ParseExpression() {
    std::vector<Node> parts;
    ASSIGN_OR_RETURN(Node first, ParseSequence());
    parts.push_back(std::move(first));
    while (IsKeyword(Peek(), "AND")) {
      ++next_;
      ASSIGN_OR_RETURN(Node part, ParseSequence());
      parts.push_back(std::move(part));
    }
    return Combine(Node::Kind::kAnd, std::move(parts));
  }

  // sequence = factor { factor }
  absl::StatusOr<Node> ParseSequence() {
    std::vector<Node> parts;
    ASSIGN_OR_RETURN(Node first, ParseFactor());
    parts.push_back(std::move(first));
    while (StartsTerm(Peek())) {
      ASSIGN_OR_RETURN(Node part, ParseFactor());
      parts.push_back(std::move(part));
    }
    return Combine(Node::Kind::kAnd, std::move(parts));
  }

  // factor = term { OR term }
  absl::StatusOr<Node> ParseFactor() {
    std::vector<Node> parts;
    ASSIGN_OR_RETURN(Node first, ParseTerm());
    parts.push_back(std::move(first));
    while (IsKeyword(Peek(), "OR")) {
      ++next_;
      ASSIGN_OR_RETURN(Node part, ParseTerm());
      parts.push_back(std::move(part));
    }
    return Combine(Node::Kind::kOr, std::move(parts));
  }

  // term = { NOT | - } simple. Negations are counted in a loop, not by recursion.
  absl::StatusOr<Node> ParseTerm() {
    int negations = 0;
    while (true) {
      Token& token = Peek();
      const size_t pos = token.pos;
      if (IsKeyword(token, "NOT")) {
        ++next_;
      } else if (token.kind == TokenKind::kWord && token.text[0] == '-') {
        // The lexer keeps '-' in words (negative numbers, "my-key"); at the start of a term it
        // negates, so strip it and read the rest of the word again.
        token.text.erase(0, 1);
        ++token.pos;
        if (token.text.empty()) ++next_;
      } else {
        break;
      }
      ++negations;
      RETURN_IF_ERROR(Enter(pos));
    }
    ASSIGN_OR_RETURN(Node node, ParseSimple());
    depth_ -= negations;
    for (int i = 0; i < negations; ++i) node = Not(std::move(node));
    return node;
  }

  // simple = restriction | ( expression )
  absl::StatusOr<Node> ParseSimple() {
    const Token& token = Peek();
    if (token.kind == TokenKind::kLParen) {
      const size_t open = token.pos;
      RETURN_IF_ERROR(Enter(open));
      ++next_;
      ASSIGN_OR_RETURN(Node inner, ParseExpression());
      const Token& close = Peek();
      if (close.kind == TokenKind::kEnd) {
        return ErrorAt(open, "unbalanced parentheses: '(' is never closed");
      }
      if (close.kind != TokenKind::kRParen) {
        return ErrorAt(close.pos, absl::StrCat("unexpected ", Describe(close)));
      }
      ++next_;
      --depth_;
      return inner;
    }
    if (token.kind == TokenKind::kString || (token.kind == TokenKind::kWord && !IsKeyword(token))) {
      ASSIGN_OR_RETURN(std::string sql, ParseRestriction());
      return Leaf(std::move(sql));
    }
    return ErrorAt(token.pos, absl::StrCat("expected a restriction, found ", Describe(token)));
  }

  // restriction = field comparator value
  absl::StatusOr<std::string> ParseRestriction() {
    const Token& name = tokens_[next_++];
    if (++terms_ > limits_.max_terms) {
      return ErrorAt(name.pos,
                     absl::StrCat("filter has more than ", limits_.max_terms, " restrictions"));
    }
    const FieldRef ref = name.kind == TokenKind::kWord ? Resolve(schema_, name.text) : FieldRef{};
    const Token& op = Peek();
    if (op.kind != TokenKind::kComparator) {
      if (ref.field != nullptr) {
        return ErrorAt(op.pos, absl::StrCat("expected a comparator after ", Quote(name.text),
                                            ", found ", Describe(op)));
      }
      // AIP-160's global text search ("a bare value") is not supported.
      return ErrorAt(name.pos,
                     absl::StrCat(Quote(name.text), " needs a field and comparator, e.g. ",
                                  ExampleField(), ":", IsPlainWord(name.text) ? name.text : "foo"));
    }
    if (name.kind == TokenKind::kString) {
      return ErrorAt(name.pos, "expected a field name, found a quoted string");
    }
    if (ref.field == nullptr) {
      return ErrorAt(name.pos, absl::StrCat("unknown field ", Quote(name.text),
                                            " (filterable fields: ", FieldList(), ")"));
    }
    if (ref.has_key && !IsValidMapKey(ref.key)) {
      return ErrorAt(
          name.pos + ref.field->name.size() + 1,
          absl::StrCat("invalid key ", Quote(ref.key), " of map field ", Quote(ref.field->name),
                       " (letters, digits, '_', '-' and '.'; or use ", ref.field->name,
                       ":\"any key\")"));
    }
    ++next_;
    const Token& value = Peek();
    if (IsKeyword(value)) {
      return ErrorAt(value.pos, absl::StrCat("expected a value after '", op.text, "', found ",
                                             Describe(value), " (quote it to use it as a value)"));
    }
    if (value.kind != TokenKind::kWord && value.kind != TokenKind::kString) {
      return ErrorAt(value.pos, absl::StrCat("expected a value after '", op.text, "'"));
    }
    ++next_;
    return CompileRestriction(ref, ParseCmp(op.text), op, value);
  }

  absl::StatusOr<std::string> CompileRestriction(const FieldRef& ref, Cmp cmp, const Token& op,
                                                 const Token& value) {
    const FilterField& field = *ref.field;
    const std::string& text = value.text;
    if (cmp == Cmp::kHas && IsPresence(value)) return Presence(ref);
    switch (field.type) {
      case FilterType::kString:
        return CompareString(field.sql, cmp, value, &field);

      case FilterType::kInt: {
        if (cmp == Cmp::kHas) return NotHas(op, field, "integer");
        int64_t number;
        if (!absl::SimpleAtoi(text, &number)) {
          return ErrorAt(value.pos, absl::StrCat("expected an integer for field ",
                                                 Quote(field.name), ", found ", Quote(text)));
        }
        return Compare(field.sql, cmp, absl::StrCat(Param(absl::StrCat(number)), "::bigint"));
      }

      case FilterType::kDecimal: {
        if (cmp == Cmp::kHas) return NotHas(op, field, "number");
        if (!IsDecimalText(text)) {
          return ErrorAt(value.pos, absl::StrCat("expected a decimal number for field ",
                                                 Quote(field.name), ", found ", Quote(text)));
        }
        return Compare(field.sql, cmp, absl::StrCat(Param(text), "::numeric"));
      }

      case FilterType::kBool:
        if (cmp != Cmp::kEq && cmp != Cmp::kNe) {
          return ErrorAt(
              op.pos, absl::StrCat("boolean field ", Quote(field.name), " supports only = and !="));
        }
        if (text != "true" && text != "false") {
          return ErrorAt(value.pos, absl::StrCat("expected true or false for field ",
                                                 Quote(field.name), ", found ", Quote(text)));
        }
        return Compare(field.sql, cmp, absl::StrCat(Param(text), "::boolean"));

      case FilterType::kTimestamp: {
        if (cmp == Cmp::kHas) return NotHas(op, field, "timestamp");
        absl::Time time;
        std::string ignored;
        // ParseTime also accepts "infinite-future"; PostgreSQL needs years 1 to 9999 in RFC 3339.
        bool ok = absl::ParseTime(absl::RFC3339_full, text, &time, &ignored) &&
                  time != absl::InfiniteFuture() && time != absl::InfinitePast();
        if (ok) {
          const int64_t year = absl::ToCivilYear(time, absl::UTCTimeZone()).year();
          ok = year >= 1 && year <= 9999;
        }
        if (!ok) {
          return ErrorAt(
              value.pos,
              absl::StrCat("expected an RFC 3339 timestamp for field ", Quote(field.name),
                           " such as \"2026-01-01T00:00:00Z\", found ", Quote(text)));
        }
        return Compare(
            field.sql, cmp,
            absl::StrCat(Param(absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone())),
                         "::timestamptz"));
      }

      case FilterType::kEnum: {
        if (cmp != Cmp::kEq && cmp != Cmp::kNe) {
          return ErrorAt(op.pos,
                         absl::StrCat("enum field ", Quote(field.name), " supports only = and !="));
        }
        if (!field.enum_value) {
          return absl::InternalError(
              absl::StrCat("filter schema: enum field '", field.name, "' has no enum_value"));
        }
        std::optional<std::string> stored = field.enum_value(text);
        if (!stored.has_value()) {
          return ErrorAt(value.pos, absl::StrCat("unknown value ", Quote(text), " for enum field ",
                                                 Quote(field.name)));
        }
        return Compare(field.sql, cmp, Param(*std::move(stored)));
      }

      case FilterType::kStringList:
        if (cmp != Cmp::kHas) {
          return ErrorAt(op.pos, absl::StrCat("use ':' to test membership of list field ",
                                              Quote(field.name), ", e.g. ", field.name, ":vip"));
        }
        if (value.trailing_star) return NoWildcard(value, "list membership");
        return absl::StrCat("(", Param(text), " = ANY(", field.sql, "))");

      case FilterType::kStringMap:
        if (ref.has_key) {
          const std::string lhs = absl::StrCat("(", field.sql, " ->> ", Param(ref.key), "::text)");
          return CompareString(lhs, cmp, value);
        }
        if (cmp != Cmp::kHas) {
          return ErrorAt(op.pos, absl::StrCat("compare a key of map field ", Quote(field.name),
                                              ", e.g. ", field.name,
                                              ".size = \"38\", or test for "
                                              "one with ",
                                              field.name, ":size"));
        }
        if (value.trailing_star) return NoWildcard(value, "key names");
        return absl::StrCat("(", field.sql, " ? ", Param(text), "::text)");
    }
    return absl::InternalError("filter: unhandled field type");
  }

  // `field:*`: the field is set (non-empty for strings, lists and maps).
  std::string Presence(const FieldRef& ref) {
    const FilterField& field = *ref.field;
    switch (field.type) {
      case FilterType::kString:
        return absl::StrCat("(", field.sql, " <> '')");
      case FilterType::kStringList:
        return absl::StrCat("(cardinality(", field.sql, ") > 0)");
      case FilterType::kStringMap:
        if (ref.has_key) return absl::StrCat("(", field.sql, " ? ", Param(ref.key), "::text)");
        return absl::StrCat("(", field.sql, " <> '{}'::jsonb)");
      default:
        return absl::StrCat("(", field.sql, " IS NOT NULL)");
    }
  }

  // String comparisons on a column or on a map value: `:` is a case-insensitive substring match,
  // a trailing '*' on = / != a prefix match. `indexed` (a field with an index_sql) adds its
  // indexed predicate to an exact `=`.
  absl::StatusOr<std::string> CompareString(absl::string_view lhs, Cmp cmp, const Token& value,
                                            const FilterField* indexed = nullptr) {
    absl::string_view text = value.text;
    if (value.trailing_star) text.remove_suffix(1);
    switch (cmp) {
      case Cmp::kHas:
        // A trailing '*' adds nothing to a substring match.
        return absl::StrCat("(", lhs, " ILIKE ", Param(absl::StrCat("%", EscapeLike(text), "%")),
                            " ESCAPE '\\')");
      case Cmp::kEq:
      case Cmp::kNe:
        if (value.trailing_star) {
          // LIKE, not ILIKE: = is case-sensitive, and LIKE 'abc%' can use a btree index.
          const std::string like = absl::StrCat(
              "(", lhs, " LIKE ", Param(absl::StrCat(EscapeLike(text), "%")), " ESCAPE '\\')");
          return cmp == Cmp::kEq ? like : absl::StrCat("(", like, " IS NOT TRUE)");
        }
        if (cmp == Cmp::kEq && indexed != nullptr && !indexed->index_sql.empty()) {
          const std::string exact = Compare(lhs, cmp, Param(value.text));
          const std::string placeholder = Param(
              indexed->index_value ? indexed->index_value(value.text) : std::string(value.text));
          return absl::StrCat("(", exact, " AND ",
                              absl::StrReplaceAll(indexed->index_sql, {{"$value", placeholder}}),
                              ")");
        }
        return Compare(lhs, cmp, Param(value.text));
      default:
        if (value.trailing_star) return NoWildcard(value, "<, <=, > and >=");
        return Compare(lhs, cmp, Param(value.text));
    }
  }

  absl::Status NotHas(const Token& op, const FilterField& field, absl::string_view type) {
    return ErrorAt(op.pos, absl::StrCat("':' does not apply to ", type, " field ",
                                        Quote(field.name), "; use =, !=, <, <=, > or >="));
  }

  absl::Status NoWildcard(const Token& value, absl::string_view where) {
    return ErrorAt(value.pos, absl::StrCat("the '*' wildcard is not supported in ", where,
                                           "; write \\* inside quotes for a literal '*'"));
  }

  // Appends a parameter and returns its placeholder.
  std::string Param(std::string value) {
    params_.push_back(std::move(value));
    return absl::StrCat(
        "$", static_cast<int64_t>(first_param_) + static_cast<int64_t>(params_.size()) - 1);
  }

  std::string ExampleField() const {
    for (const FilterField& field : schema_.fields) {
      if (field.type == FilterType::kString) return field.name;
    }
    return schema_.fields.empty() ? "name" : schema_.fields[0].name;
  }

  std::string FieldList() const {
    return absl::StrJoin(schema_.fields, ", ", [](std::string* out, const FilterField& field) {
      absl::StrAppend(out, field.name);
    });
  }

  std::vector<Token> tokens_;
  const FilterSchema& schema_;
  const int first_param_;
  const FilterLimits& limits_;
  size_t next_ = 0;
  int depth_ = 0;
  int terms_ = 0;
  std::vector<std::string> params_;
};

}  // namespace

absl::StatusOr<SqlFilter> CompileFilter(absl::string_view filter, const FilterSchema& schema,
                                        int first_param, const FilterLimits& limits) {
  if (first_param < 1) return absl::InternalError("CompileFilter: first_param must be >= 1");
  if (filter.size() > limits.max_length) {
    return InvalidField(kField, absl::StrCat("too long: ", filter.size(), " bytes, at most ",
                                             limits.max_length, " allowed"));
  }
  if (const size_t bad = InvalidUtf8At(filter); bad != absl::string_view::npos) {
    return ErrorAt(bad, "invalid UTF-8");
  }
  // libpq passes parameters as C strings, so a NUL would silently truncate a value.
  if (const size_t nul = filter.find('\0'); nul != absl::string_view::npos) {
    return ErrorAt(nul, "NUL characters are not allowed");
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(filter));
  return Parser(std::move(tokens), schema, first_param, limits).Run();
}

}  // namespace crm::api
