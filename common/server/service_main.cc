#include "common/server/service_main.h"

#include "common/config/service_flags.h"
#include "common/log/log.h"

namespace crm::server {

int RunService(const std::string& schema, std::vector<EmbeddedFile> migrations,
               const WireService& wire) {
  absl::StatusOr<auth::AuthOptions> auth_options = config::AuthOptionsFromFlags();
  if (!auth_options.ok()) {
    spdlog::critical("bad auth configuration: {}", auth_options.status().ToString());
    return 2;
  }
  RuntimeOptions options;
  options.schema = schema;
  options.migrations = std::move(migrations);
  options.auth = *std::move(auth_options);
  options.pool = config::PoolOptionsFromFlags();
  options.server = config::ServerOptionsFromFlags(schema);
  options.workers = config::WorkersFromFlags();
  options.stream_limits = config::StreamLimitsFromFlags();
  options.outbox_retention = config::OutboxRetentionFromFlags();
  RaiseOpenFileLimit();
  absl::StatusOr<std::unique_ptr<ServiceRuntime>> runtime =
      ServiceRuntime::Start(std::move(options), wire);
  if (!runtime.ok()) {
    spdlog::critical("{}", std::string(runtime.status().message()));
    // A configuration the operator must fix exits 2, like a bad flag; anything else exits 1.
    return runtime.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  const int signal_number = WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  (*runtime)->Stop();
  return 0;  // then the wake-ups end, then the executor finishes what is left
}

}  // namespace crm::server
