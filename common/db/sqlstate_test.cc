#include "common/db/sqlstate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "common/testing/status_matchers.h"

namespace crm::db {
namespace {

using ::crm::testing::StatusIs;
using ::testing::HasSubstr;

struct Case {
  const char* sqlstate;
  absl::StatusCode code;
};

TEST(CodeForSqlStateTest, DocumentedStates) {
  const Case cases[] = {
      {"23505", absl::StatusCode::kAlreadyExists},       // unique_violation
      {"23503", absl::StatusCode::kFailedPrecondition},  // foreign_key_violation
      {"40001", absl::StatusCode::kAborted},             // serialization_failure
      {"40P01", absl::StatusCode::kAborted},             // deadlock_detected
      {"57014", absl::StatusCode::kDeadlineExceeded},    // query_canceled
      {"42501", absl::StatusCode::kPermissionDenied},    // insufficient_privilege
      {"23514", absl::StatusCode::kInvalidArgument},     // check_violation
      {"22P02", absl::StatusCode::kInvalidArgument},     // invalid_text_representation
      {"08006", absl::StatusCode::kUnavailable},         // connection_failure
      {"57P01", absl::StatusCode::kUnavailable},         // admin_shutdown
      {"53100", absl::StatusCode::kUnavailable},         // disk_full
      {"25006", absl::StatusCode::kUnavailable},         // read_only_sql_transaction
      {"XX000", absl::StatusCode::kInternal},            // internal_error
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sqlstate);
    EXPECT_EQ(CodeForSqlState(c.sqlstate), c.code);
  }
}

TEST(CodeForSqlStateTest, RelatedStates) {
  const Case cases[] = {
      {"23502", absl::StatusCode::kInvalidArgument},  // not_null_violation
      {"22001", absl::StatusCode::kInvalidArgument},  // string_data_right_truncation
      {"22023", absl::StatusCode::kInvalidArgument},  // invalid_parameter_value
      {"55P03", absl::StatusCode::kAborted},          // lock_not_available
      {"08000", absl::StatusCode::kUnavailable},      // connection_exception
      {"08001", absl::StatusCode::kUnavailable},      // sqlclient_unable_to_establish_sqlconnection
      {"08003", absl::StatusCode::kUnavailable},      // connection_does_not_exist
      {"57P02", absl::StatusCode::kUnavailable},      // crash_shutdown
      {"57P03", absl::StatusCode::kUnavailable},      // cannot_connect_now
      {"53200", absl::StatusCode::kUnavailable},      // out_of_memory
      {"53300", absl::StatusCode::kUnavailable},      // too_many_connections
      {"42P01", absl::StatusCode::kInternal},         // undefined_table: a bug, not the client's
      {"42601", absl::StatusCode::kInternal},         // syntax_error
      {"23000", absl::StatusCode::kInternal},         // integrity_constraint_violation (generic)
      {"P0001", absl::StatusCode::kInternal},         // raise_exception
      {"", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sqlstate);
    EXPECT_EQ(CodeForSqlState(c.sqlstate), c.code);
  }
}

TEST(CodeForSqlStateTest, MatchesWholeCodeOnly) {
  // A prefix or an extension of a mapped code is not that code.
  EXPECT_EQ(CodeForSqlState("2350"), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeForSqlState("235050"), absl::StatusCode::kInternal);
  EXPECT_EQ(CodeForSqlState("40p01"), absl::StatusCode::kInternal);
}

TEST(StatusFromResultTest, NullResultAndConnectionIsUnavailable) {
  const absl::Status status = StatusFromResult(nullptr, nullptr);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(status.message()), HasSubstr("database unavailable"));
  EXPECT_EQ(SqlStateOf(status), "");
  EXPECT_EQ(ConstraintOf(status), "");
}

TEST(StatusFromResultTest, FatalErrorWithoutSqlStateIsUnavailable) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQmakeEmptyPGresult(nullptr, PGRES_FATAL_ERROR), &PQclear);
  ASSERT_NE(result, nullptr);
  ASSERT_EQ(PQresultErrorField(result.get(), PG_DIAG_SQLSTATE), nullptr);
  const absl::Status status = StatusFromResult(result.get(), nullptr);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(SqlStateOf(status), "");
}

TEST(StatusFromResultTest, NullResultIsUnavailableWithoutTheConnectionsDetail) {
  // An invalid connection option fails inside libpq, before any network access.
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectStart("crm_no_such_option=1"),
                                                    &PQfinish);
  ASSERT_NE(conn, nullptr);
  ASSERT_EQ(PQstatus(conn.get()), CONNECTION_BAD);
  const std::string expected = PQerrorMessage(conn.get());
  ASSERT_FALSE(expected.empty());
  const absl::Status status = StatusFromResult(nullptr, conn.get());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  // libpq's text (which can name the database host and port) is for the log, not the caller.
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr(expected)));
  EXPECT_EQ(status.message(), "database unavailable; retry shortly");
}

TEST(StatusFromResultTest, SuccessfulResultIsUnexpected) {
  // Callers pass only failed results; anything else is a programming error.
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK), &PQclear);
  ASSERT_NE(result, nullptr);
  const absl::Status status = StatusFromResult(result.get(), nullptr);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(std::string(status.message()), HasSubstr("PGRES_TUPLES_OK"));
}

TEST(PayloadTest, ReadsSqlStateAndConstraint) {
  absl::Status status = absl::AlreadyExistsError("database: duplicate key");
  EXPECT_EQ(SqlStateOf(status), "");
  EXPECT_EQ(ConstraintOf(status), "");
  status.SetPayload(kSqlStatePayload, absl::Cord("23505"));
  status.SetPayload(kConstraintPayload, absl::Cord("contact_emails_tenant_key_key"));
  EXPECT_EQ(SqlStateOf(status), "23505");
  EXPECT_EQ(ConstraintOf(status), "contact_emails_tenant_key_key");
}

}  // namespace
}  // namespace crm::db
