// What every service's main() does, in one place: auth from flags, migrations (the service's own
// and the outbox's), the database pool, the event outbox with its notifier, the shared
// EventStream and outbox maintenance, the gRPC server, and an orderly shutdown on SIGTERM.
// A service's main() only wires its own parts.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/base/embedded_file.h"
#include "common/db/pool.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/server/executor.h"
#include "common/server/server.h"
#include "common/server/stream_limiter.h"
#include "common/server/wakeups.h"

namespace crm::server {

// What a service's wiring gets to build on.
struct ServiceContext {
  const auth::Authenticator& authenticator;
  const auth::AuthOptions& auth_options;
  const db::PoolOptions& pool_options;
  db::Pool& pool;
  events::Outbox& outbox;
  events::Notifier& notifier;
  Server& server;
  // For streaming RPCs served as reactors: where their blocking steps run, and what wakes the
  // ones that wait for the outbox to change.
  Executor& executor;
  Wakeups& wakeups;
  StreamLimits stream_limits;
};

// A service's own objects, kept alive while it serves. Start() runs once the server is up,
// Stop() before the shared parts stop.
class ServiceParts {
 public:
  virtual ~ServiceParts() = default;
  virtual void Start() {}
  virtual void Stop() {}
};

using WireService =
    std::function<absl::StatusOr<std::unique_ptr<ServiceParts>>(ServiceContext& context)>;

// Call after flags are parsed and logging is set up. Returns the process exit code.
int RunService(const std::string& schema, std::vector<EmbeddedFile> migrations,
               const WireService& wire);

}  // namespace crm::server
