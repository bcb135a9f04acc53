#include "common/testing/test_runtime.h"

#include <gtest/gtest.h>

#include "common/testing/grpc_testing.h"

namespace crm::testing {

server::RuntimeOptions TestRuntimeOptions(const TestDatabase& database, const std::string& schema,
                                          std::vector<EmbeddedFile> migrations) {
  server::RuntimeOptions options;
  options.schema = schema;
  options.migrations = std::move(migrations);
  options.auth.hs256_secret = kTestJwtSecret;
  options.auth.service_secret = kTestServiceSecret;
  options.pool.conninfo = database.ConnInfo(schema);
  options.pool.size = 8;
  options.server.service_name = schema;
  return options;
}

std::unique_ptr<server::ServiceRuntime> StartService(server::RuntimeOptions options,
                                                     const server::WireService& wire) {
  const std::string schema = options.schema;
  absl::StatusOr<std::unique_ptr<server::ServiceRuntime>> runtime =
      server::ServiceRuntime::Start(std::move(options), wire);
  if (!runtime.ok()) {
    ADD_FAILURE() << schema << ": " << runtime.status();
    return nullptr;
  }
  return *std::move(runtime);
}

}  // namespace crm::testing
