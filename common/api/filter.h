// AIP-160 list filters compiled to parameterised SQL (https://google.aip.dev/160).
//
// A service describes its filterable fields once (FilterSchema: the name clients write, the
// trusted SQL expression behind it and its type) and compiles each request's `filter` into a
// WHERE fragment plus parameters. Client text only ever becomes a parameter value; the SQL is
// made of the schema's fragments, operators and placeholders.
//
// Grammar (a subset of AIP-160):
//   expression  = sequence { "AND" sequence }
//   sequence    = factor { factor }                 (implicit AND)
//   factor      = term { "OR" term }                (OR binds tighter than AND, as AIP-160 says)
//   term        = { "NOT" | "-" } ( restriction | "(" expression ")" )
//   restriction = field comparator value            (comparator: = != < <= > >= :)
// Keywords are upper case. Values are "double" or 'single' quoted strings (escapes \" \' \\ \n
// \t \*), or bare words (CUSTOMER, 42, true). `field:*` tests presence on every type. A trailing
// unescaped `*` in an `=`/`!=` value on a string is a prefix match (case-sensitive, like `=`).
// `:` on a string is a case-insensitive substring match.
//
// NULLs: `a != v` and `NOT x` include rows where the column is NULL (so `-a = v` and `a != v`
// agree); `<`, `>` and the like never match NULL.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// kDecimal compares exactly as numeric (custom number, percent); kStringList is a text[].
enum class FilterType {
  kString,
  kInt,
  kDecimal,
  kBool,
  kTimestamp,
  kEnum,
  kStringList,
  kStringMap
};

struct FilterField {
  FilterField() = default;
  FilterField(std::string name, std::string sql, FilterType type,
              std::function<std::optional<std::string>(absl::string_view)> enum_value = nullptr)
      : name(std::move(name)), sql(std::move(sql)), type(type), enum_value(std::move(enum_value)) {}

  // As clients write it: "lifecycle_stage", "tags", "attributes", "company.industry".
  std::string name;
  // Trusted SQL expression: "c.lifecycle_stage", "c.tags" (text[]), "c.attributes" (jsonb object
  // of strings), "co.industry". Spliced into the query as is, so never derived from a request.
  std::string sql;
  FilterType type = FilterType::kString;
  // kEnum only: maps a client literal (CUSTOMER, customer, LIFECYCLE_STAGE_CUSTOMER) to the
  // stored text ("customer"); nullopt for an unknown value.
  std::function<std::optional<std::string>(absl::string_view)> enum_value;
  // kString only, optional: an index that answers `name = "v"`. For each exact `=` the compiler
  // adds `index_sql` (with "$value" replaced by a placeholder bound to index_value(v)) beside
  // the comparison: every matching row satisfies both, and the planner gets an indexed predicate
  // for an expression it could not index (a unique custom field's value inside a jsonb column).
  std::string index_sql;
  std::function<std::string(absl::string_view)> index_value;
};

struct FilterSchema {
  std::vector<FilterField> fields;
};

struct SqlFilter {
  // "" for an empty filter, else a parenthesised boolean SQL expression using placeholders
  // $first_param, $first_param+1, ...
  std::string where;
  // Values for those placeholders, in order, in text format (the SQL casts where needed).
  std::vector<std::string> params;
};

// Bounds that keep hostile filters cheap to compile and to run.
struct FilterLimits {
  size_t max_length = 2000;  // bytes
  int max_depth = 16;        // nested parentheses and negations
  int max_terms = 64;        // restrictions
};

// Compiles `filter` against `schema`. `first_param` is the number of the first placeholder the
// filter may use (the caller's own parameters come before it). Errors are INVALID_ARGUMENT on
// field "filter" whose description gives the byte offset at fault ("at position 17: unknown
// field 'colour'"); INTERNAL for a caller bug (first_param < 1, an enum without enum_value).
// An empty or whitespace-only filter yields an empty SqlFilter.
absl::StatusOr<SqlFilter> CompileFilter(absl::string_view filter, const FilterSchema& schema,
                                        int first_param, const FilterLimits& limits = {});

}  // namespace crm::api
