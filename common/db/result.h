// A query result from libpq, owned (PQclear on destruction) and read by row and column.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace crm::db {

// Rows of one statement. Values are in PostgreSQL's text format; the typed getters parse the
// formats our SQL asks for (bigint, boolean, timestamptz as epoch microseconds, text[] as array
// literals).
class Result final {
 public:
  Result() = default;
  explicit Result(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  // True for the result of a statement that ran (as opposed to an empty slot).
  bool ok() const { return result_ != nullptr; }
  int columns() const { return result_ ? PQnfields(result_.get()) : 0; }
  // Rows changed by INSERT/UPDATE/DELETE.
  int64_t affected() const;

  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  absl::string_view Text(int row, int col) const;
  std::string String(int row, int col) const { return std::string(Text(row, col)); }
  int64_t Int(int row, int col) const;
  bool Bool(int row, int col) const;
  // A column selected as `(extract(epoch from t) * 1000000)::bigint`.
  absl::Time TimeFromMicros(int row, int col) const;
  // A text[] column in PostgreSQL's array literal format ({a,"b c"}).
  std::vector<std::string> TextArray(int row, int col) const;
  int ColumnIndex(const char* name) const { return PQfnumber(result_.get(), name); }

 private:
  std::shared_ptr<PGresult> result_;
};

// Renders a list as a PostgreSQL array literal for a bound text[] parameter.
std::string ToArrayLiteral(const std::vector<std::string>& values);

}  // namespace crm::db
