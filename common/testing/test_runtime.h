// Services under test start through the same runtime and wiring function as their main(): only
// the options differ (the test database, the test secrets, loopback on a free port).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/server/service_runtime.h"
#include "common/testing/pg_test_db.h"

namespace crm::testing {

// `schema`'s role on `database`, kTestJwtSecret and kTestServiceSecret, 127.0.0.1:0.
server::RuntimeOptions TestRuntimeOptions(const TestDatabase& database, const std::string& schema,
                                          std::vector<EmbeddedFile> migrations);

// ServiceRuntime::Start, failing the test (and returning nullptr) when the service cannot start.
std::unique_ptr<server::ServiceRuntime> StartService(server::RuntimeOptions options,
                                                     const server::WireService& wire);

}  // namespace crm::testing
