#include "common/testing/pg_test_db.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/base/embedded_file.h"
#include "common/base/status_macros.h"
#include "common/db/connection.h"
#include "common/ids/uuid.h"

extern const std::vector<crm::EmbeddedFile>& BootstrapDbSql();

namespace crm::testing {

absl::StatusOr<std::string> ClusterConnInfo() {
  const char* path = std::getenv("CRM_TEST_PG_ENV");
  if (path == nullptr) {
    return absl::FailedPreconditionError(
        "CRM_TEST_PG_ENV is not set: run tests through ctest (make test), which starts PostgreSQL");
  }
  std::ifstream in(path);
  std::string conninfo;
  if (!std::getline(in, conninfo) || conninfo.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read cluster info from ", path));
  }
  return conninfo;
}

absl::StatusOr<TestDatabase> TestDatabase::Create() {
  ASSIGN_OR_RETURN(std::string cluster, ClusterConnInfo());
  std::string name = "t_" + absl::StrReplaceAll(ids::NewUuidV7(), {{"-", ""}});
  {
    ASSIGN_OR_RETURN(auto admin, db::Connection::Open(absl::StrCat(cluster,
                                                                   " dbname=postgres "
                                                                   "user=postgres"),
                                                      absl::Seconds(10)));
    RETURN_IF_ERROR(admin->ExecScript(absl::StrCat("CREATE DATABASE ", name)));
  }
  TestDatabase database(name);
  ASSIGN_OR_RETURN(auto admin,
                   db::Connection::Open(database.ConnInfo("postgres"), absl::Seconds(10)));
  for (const EmbeddedFile& file : BootstrapDbSql()) {
    RETURN_IF_ERROR(admin->ExecScript(file.contents));
  }
  return database;
}

TestDatabase::~TestDatabase() {
  if (name_.empty()) return;
  auto cluster = ClusterConnInfo();
  if (!cluster.ok()) return;
  auto admin = db::Connection::Open(absl::StrCat(*cluster, " dbname=postgres user=postgres"),
                                    absl::Seconds(10));
  if (admin.ok())
    (void)(*admin)->ExecScript(absl::StrCat("DROP DATABASE ", name_, " WITH (FORCE)"));
}

std::string TestDatabase::ConnInfo(const std::string& role) const {
  auto cluster = ClusterConnInfo();
  return absl::StrCat(cluster.ok() ? *cluster : "", " dbname=", name_, " user=", role);
}

}  // namespace crm::testing
