#include "common/db/migrations.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/connection.h"

namespace crm::db {
namespace {

absl::StatusOr<int> VersionOf(absl::string_view file_name) {
  int version = 0;
  const size_t underscore = file_name.find('_');
  if (underscore == absl::string_view::npos ||
      !absl::SimpleAtoi(file_name.substr(0, underscore), &version) || version <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file name must start with a positive number: ", file_name));
  }
  return version;
}

absl::Status ApplyPending(Connection& conn, const std::string& schema,
                          std::vector<EmbeddedFile> migrations, int* applied) {
  // Numeric order: a service's own files (001_...) before shared ones (10001_outbox.sql).
  for (const EmbeddedFile& file : migrations) RETURN_IF_ERROR(VersionOf(file.name).status());
  std::sort(migrations.begin(), migrations.end(), [](const EmbeddedFile& a, const EmbeddedFile& b) {
    return *VersionOf(a.name) < *VersionOf(b.name);
  });
  RETURN_IF_ERROR(conn.ExecScript(
      absl::StrCat("CREATE TABLE IF NOT EXISTS ", schema,
                   ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                   "applied_at timestamptz NOT NULL DEFAULT now())")));
  for (const EmbeddedFile& file : migrations) {
    ASSIGN_OR_RETURN(int version, VersionOf(file.name));
    ASSIGN_OR_RETURN(Result done, conn.Exec(absl::StrCat("SELECT 1 FROM ", schema,
                                                         ".schema_migrations WHERE version = $1"),
                                            {absl::StrCat(version)}));
    if (done.rows() > 0) continue;
    // The file and its record commit together: a crash mid-way leaves the migration unapplied.
    RETURN_IF_ERROR(conn.ExecScript("BEGIN"));
    absl::Status status =
        conn.ExecScript(absl::StrCat("SET LOCAL search_path = ", schema, ";\n", file.contents));
    if (status.ok()) {
      status = conn.Exec(absl::StrCat("INSERT INTO ", schema,
                                      ".schema_migrations (version, name) VALUES ($1, $2)"),
                         {absl::StrCat(version), std::string(file.name)})
                   .status();
    }
    if (!status.ok()) {
      (void)conn.ExecScript("ROLLBACK");
      return absl::Status(status.code(),
                          absl::StrCat("migration ", file.name, " failed: ", status.message()));
    }
    RETURN_IF_ERROR(conn.ExecScript("COMMIT"));
    if (applied != nullptr) ++*applied;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Migrate(const std::string& conninfo, const std::string& schema,
                     const std::vector<EmbeddedFile>& migrations, int* applied) {
  if (applied != nullptr) *applied = 0;
  // The schema name is spliced into DDL as an identifier, so it must be a plain one.
  if (schema.empty() ||
      schema.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("bad schema name: ", schema));
  }
  ASSIGN_OR_RETURN(auto conn, Connection::Open(conninfo, absl::Seconds(10)));
  // Keyed by schema so different services migrate concurrently but replicas of one do not.
  RETURN_IF_ERROR(
      conn->Exec("SELECT pg_advisory_lock(hashtext('crm.migrations.' || $1))", {schema}).status());
  absl::Status status = ApplyPending(*conn, schema, migrations, applied);
  (void)conn->Exec("SELECT pg_advisory_unlock(hashtext('crm.migrations.' || $1))", {schema});
  return status;
}

}  // namespace crm::db
