#include "common/server/service_runtime.h"

#include "absl/strings/str_cat.h"
#include "common/auth/authenticator.h"
#include "common/db/migrations.h"
#include "common/events/consumer.h"
#include "common/events/event_router.h"
#include "common/events/event_stream_service.h"
#include "common/events/outbox_maintenance.h"
#include "common/log/log.h"

extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

namespace crm::server {
namespace {

absl::Status Annotated(const absl::Status& status, absl::string_view step) {
  return absl::Status(status.code(), absl::StrCat(step, ": ", status.message()));
}

}  // namespace

std::unique_ptr<events::EventConsumer> FollowEvents(const ServiceContext& context,
                                                    const std::string& name,
                                                    const std::string& source_address,
                                                    const events::EventRouter& routes) {
  events::ConsumerOptions follow;
  follow.name = name;
  follow.schema = context.schema;
  follow.source_address = source_address;
  follow.event_types = routes.types();
  follow.token = [identity = context.schema, secret = context.auth_options.service_secret] {
    return auth::MintServiceToken(identity, secret);
  };
  return std::make_unique<events::EventConsumer>(follow, context.pool, routes.handler(),
                                                 &context.server.registry());
}

ServiceRuntime::ServiceRuntime(RuntimeOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ServiceRuntime>> ServiceRuntime::Start(RuntimeOptions options,
                                                                      const WireService& wire) {
  if (options.auth.service_secret.empty()) {
    return absl::InvalidArgumentError(
        "bad auth configuration: --service_secret (CRM_SERVICE_SECRET) is required: every "
        "service serves its event stream to the service identity");
  }
  auto authenticator = auth::Authenticator::Create(options.auth);
  if (!authenticator.ok()) return Annotated(authenticator.status(), "bad auth configuration");
  std::vector<EmbeddedFile> migrations = options.migrations;
  migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
  int applied = 0;
  if (absl::Status s = db::Migrate(options.pool.conninfo, options.schema, migrations, &applied);
      !s.ok()) {
    return Annotated(s, "migrations failed");
  }
  spdlog::info("migrations applied={}", applied);

  std::unique_ptr<ServiceRuntime> runtime(new ServiceRuntime(std::move(options)));
  ServiceRuntime& r = *runtime;
  const RuntimeOptions& o = r.options_;
  r.authenticator_ = *std::move(authenticator);
  r.server_ = std::make_unique<Server>(o.server);
  r.pool_ = std::make_unique<db::Pool>(o.pool, &r.server_->registry());
  r.executor_ = std::make_unique<Executor>(o.workers);
  r.wakeups_ = std::make_unique<Wakeups>(*r.executor_);
  r.notifier_ =
      std::make_unique<events::Notifier>(o.pool.conninfo, events::OutboxChannel(o.schema));
  r.notifier_->OnChange([wakeups = r.wakeups_.get()] { wakeups->Signal(); });
  r.outbox_ = std::make_unique<events::Outbox>(o.schema, &r.server_->registry(), r.notifier_.get());
  r.context_ = std::unique_ptr<ServiceContext>(
      new ServiceContext{o.schema, *r.authenticator_, o.auth, o.pool, *r.pool_, *r.outbox_,
                         *r.notifier_, *r.server_, *r.executor_, *r.wakeups_, o.stream_limits});
  absl::StatusOr<std::unique_ptr<ServiceParts>> parts = wire(*r.context_);
  if (!parts.ok()) return Annotated(parts.status(), "cannot set up");
  r.parts_ = *std::move(parts);
  r.events_ = std::make_unique<events::EventStreamService>(
      *r.pool_, o.schema, *r.authenticator_, *r.executor_, *r.wakeups_, &r.server_->registry(),
      events::EventStreamOptions{.limits = o.stream_limits});
  r.maintenance_ = std::make_unique<events::OutboxMaintenance>(
      *r.pool_, o.schema, &r.server_->registry(),
      events::OutboxMaintenanceOptions{.retention = o.outbox_retention});
  r.server_->AddService(r.events_.get());
  r.server_->OnShutdown([events = r.events_.get()] { events->Shutdown(); });
  r.notifier_->Start();
  r.maintenance_->Start();
  if (absl::Status s = r.server_->Start(); !s.ok()) return Annotated(s, "cannot start");
  r.parts_->Start();
  r.parts_started_ = true;
  return runtime;
}

ServiceRuntime::~ServiceRuntime() { Stop(); }

void ServiceRuntime::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (server_ != nullptr) server_->Shutdown();  // a no-op if it never started
  if (parts_started_) parts_->Stop();
  if (maintenance_ != nullptr) maintenance_->Stop();
  if (notifier_ != nullptr) notifier_->Stop();
}

}  // namespace crm::server
