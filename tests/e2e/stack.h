// Every service binary and the gateway on one test database: the whole product, on loopback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"

namespace crm::testing {

struct StackOptions {
  std::vector<std::string> gateway_flags;
  // Added to each of the four services' flags.
  std::vector<std::string> service_flags;
  // When set, each process logs to <log_dir>/<name>.log (tests that read the logs).
  std::string log_dir;
};

class Stack final {
 public:
  static absl::StatusOr<std::unique_ptr<Stack>> Start(StackOptions options = {});
  ~Stack();

  std::string url(const std::string& path) const;  // http://127.0.0.1:<gateway>/path
  int gateway_port() const { return gateway_->grpc_port(); }
  ServiceProcess& contacts() { return *contacts_; }
  ServiceProcess& pipeline() { return *pipeline_; }
  ServiceProcess& tasks() { return *tasks_; }
  ServiceProcess& reporting() { return *reporting_; }
  ServiceProcess& gateway() { return *gateway_; }

 private:
  Stack() = default;
  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<ServiceProcess> contacts_, pipeline_, tasks_, reporting_, gateway_;
};

}  // namespace crm::testing
