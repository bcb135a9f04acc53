#include "common/db/sqlstate.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log/log.h"

namespace crm::db {

absl::StatusCode CodeForSqlState(absl::string_view s) {
  if (s == "23505") return absl::StatusCode::kAlreadyExists;
  if (s == "23503") return absl::StatusCode::kFailedPrecondition;
  if (s == "40001" || s == "40P01") return absl::StatusCode::kAborted;
  if (s == "57014") return absl::StatusCode::kDeadlineExceeded;  // query_canceled (timeout)
  if (s == "42501") return absl::StatusCode::kPermissionDenied;
  if (s == "23514" || s == "23502" || s == "22P02" || s == "22001" || s == "22023")
    return absl::StatusCode::kInvalidArgument;
  if (s == "55P03") return absl::StatusCode::kAborted;  // lock_not_available
  // Class 08: connection exception; 57P01..03: admin shutdown, crash, cannot connect now;
  // 53: insufficient resources (disk full, too many connections); 25006: read-only transaction.
  if (absl::StartsWith(s, "08") || absl::StartsWith(s, "57P") || absl::StartsWith(s, "53"))
    return absl::StatusCode::kUnavailable;
  if (s == "25006") return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kInternal;
}

absl::Status StatusFromResult(const PGresult* result, const PGconn* conn) {
  if (result == nullptr || PQresultStatus(result) == PGRES_FATAL_ERROR) {
    const char* sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    if (sqlstate == nullptr) {
      // No SQLSTATE: the client lost the connection (or never had it). libpq's message may name
      // the database's host and port: it goes to the log, the caller gets the code.
      spdlog::warn("database connection lost: {}", conn ? PQerrorMessage(conn) : "no connection");
      return absl::UnavailableError("database unavailable; retry shortly");
    }
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    absl::Status status(CodeForSqlState(sqlstate),
                        absl::StrCat("database: ", primary ? primary : "error"));
    status.SetPayload(kSqlStatePayload, absl::Cord(sqlstate));
    if (constraint) status.SetPayload(kConstraintPayload, absl::Cord(constraint));
    return status;
  }
  return absl::InternalError(
      absl::StrCat("database: unexpected result ", PQresStatus(PQresultStatus(result))));
}

std::string ConstraintOf(const absl::Status& status) {
  auto payload = status.GetPayload(kConstraintPayload);
  return payload ? std::string(*payload) : "";
}

std::string SqlStateOf(const absl::Status& status) {
  auto payload = status.GetPayload(kSqlStatePayload);
  return payload ? std::string(*payload) : "";
}

}  // namespace crm::db
