// The one place where PostgreSQL errors become absl::Status codes.
#pragma once

#include <libpq-fe.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace crm::db {

// The SQLSTATE is kept as a payload so callers can tell which constraint failed.
inline constexpr absl::string_view kSqlStatePayload = "crm.db/sqlstate";
inline constexpr absl::string_view kConstraintPayload = "crm.db/constraint";

// unique_violation -> ALREADY_EXISTS, foreign_key_violation -> FAILED_PRECONDITION,
// serialization/deadlock -> ABORTED, connection failures and shutdown -> UNAVAILABLE,
// statement timeout -> DEADLINE_EXCEEDED, insufficient privilege (RLS) -> PERMISSION_DENIED,
// check/not-null/invalid text -> INVALID_ARGUMENT, anything else -> INTERNAL.
absl::StatusCode CodeForSqlState(absl::string_view sqlstate);

// Builds a status from a failed result (or from the connection's error when result is null).
absl::Status StatusFromResult(const PGresult* result, const PGconn* conn);

// The constraint name of a failed statement's status ("" when none).
std::string ConstraintOf(const absl::Status& status);
std::string SqlStateOf(const absl::Status& status);

}  // namespace crm::db
