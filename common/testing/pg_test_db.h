// A throwaway database per test suite, in the PostgreSQL cluster that the test run started
// (tests/pg_fixture.sh, registered as a CTest fixture). Tests connect as the service's own role,
// never as a superuser, so row-level security applies to them exactly as in production.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace crm::testing {

class TestDatabase final {
 public:
  // Creates a fresh database with the per-service schemas (deploy/local/bootstrap_db.sql).
  static absl::StatusOr<TestDatabase> Create();
  TestDatabase(TestDatabase&& other) noexcept : name_(std::move(other.name_)) {
    other.name_.clear();
  }
  ~TestDatabase();

  // libpq conninfo for a service role ("contacts", ...) or the superuser ("postgres").
  std::string ConnInfo(const std::string& role) const;
  const std::string& name() const { return name_; }

 private:
  explicit TestDatabase(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Conninfo of the test cluster (host + port), from $CRM_TEST_PG_ENV.
absl::StatusOr<std::string> ClusterConnInfo();

}  // namespace crm::testing
