// The shared parts of a service process, built in one place: migrations (the service's own and
// the outbox's), the authenticator, the database pool, the executor and wake-ups, the outbox with
// its notifier, the EventStream and outbox maintenance, and the gRPC server. main() (through
// RunService) and the tests start services through this class with the same wiring function, so
// a test serves exactly what production serves; only the options differ.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/base/embedded_file.h"
#include "common/db/pool.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/server/executor.h"
#include "common/server/server.h"
#include "common/server/stream_limiter.h"
#include "common/server/wakeups.h"

namespace crm::events {
class EventConsumer;
class EventRouter;
class EventStreamService;
class OutboxMaintenance;
}  // namespace crm::events

namespace crm::server {

// What a service's wiring gets to build on.
struct ServiceContext {
  const std::string& schema;  // the service's schema, outbox and service identity
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

// Builds a service's own parts on the shared ones and adds its gRPC services to the server.
using WireService =
    std::function<absl::StatusOr<std::unique_ptr<ServiceParts>>(ServiceContext& context)>;

// The usual wiring: Parts built from the context and `options`, serving Parts::service.
template <typename Parts, typename Options>
WireService WireParts(Options options) {
  return [options = std::move(options)](
             ServiceContext& context) -> absl::StatusOr<std::unique_ptr<ServiceParts>> {
    auto parts = std::make_unique<Parts>(context, options);
    context.server.AddService(&parts->service);
    return parts;
  };
}

// For a service's wiring: a consumer of another service's event stream, checkpointed in this
// service's schema as `name`, authenticating as this service, dispatching with `routes`.
std::unique_ptr<events::EventConsumer> FollowEvents(const ServiceContext& context,
                                                    const std::string& name,
                                                    const std::string& source_address,
                                                    const events::EventRouter& routes);

struct RuntimeOptions {
  std::string schema;                    // the service's PostgreSQL schema and outbox name
  std::vector<EmbeddedFile> migrations;  // the service's own; the outbox's are added
  auth::AuthOptions auth;                // service_secret is required: every service streams
  db::PoolOptions pool;
  ServerOptions server;
  int workers = 4;  // executor threads for database work
  StreamLimits stream_limits;
  absl::Duration outbox_retention = absl::Hours(24 * 7);
};

class ServiceRuntime final {
 public:
  // Migrates, builds the shared parts, wires the service and starts serving (the server first,
  // then the parts' Start()). Errors name the step that failed.
  static absl::StatusOr<std::unique_ptr<ServiceRuntime>> Start(RuntimeOptions options,
                                                               const WireService& wire);
  ~ServiceRuntime();

  // Drains the server, then stops the parts, then the shared background work. Idempotent.
  void Stop();

  int grpc_port() const { return server_->grpc_port(); }
  Server& server() { return *server_; }
  db::Pool& pool() { return *pool_; }
  events::Outbox& outbox() { return *outbox_; }
  // The wired parts, as the type the wiring function built.
  template <typename Parts>
  Parts& parts() {
    return static_cast<Parts&>(*parts_);
  }

 private:
  explicit ServiceRuntime(RuntimeOptions options);

  const RuntimeOptions options_;
  // Declaration order is construction order; destruction runs backwards, so the wake-ups end
  // before the executor finishes what is left, and the pool outlives everything that queries.
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<Wakeups> wakeups_;
  std::unique_ptr<events::Notifier> notifier_;
  std::unique_ptr<events::Outbox> outbox_;
  std::unique_ptr<ServiceContext> context_;
  std::unique_ptr<ServiceParts> parts_;
  std::unique_ptr<events::EventStreamService> events_;
  std::unique_ptr<events::OutboxMaintenance> maintenance_;
  bool parts_started_ = false;
  bool stopped_ = false;
};

}  // namespace crm::server
