#include "common/server/service_main.h"

#include "common/config/service_flags.h"
#include "common/db/migrations.h"
#include "common/events/event_stream_service.h"
#include "common/events/outbox_maintenance.h"
#include "common/log/log.h"

extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

namespace crm::server {

int RunService(const std::string& schema, std::vector<EmbeddedFile> migrations,
               const WireService& wire) {
  auto auth_options = config::AuthOptionsFromFlags();
  auto authenticator =
      auth_options.ok() ? auth::Authenticator::Create(*auth_options) : auth_options.status();
  if (!authenticator.ok()) {
    spdlog::critical("bad auth configuration: {}", authenticator.status().ToString());
    return 2;
  }
  // Every service serves its event stream to the service identity, and most follow others'.
  if (auth_options->service_secret.empty()) {
    spdlog::critical("bad auth configuration: --service_secret (CRM_SERVICE_SECRET) is required");
    return 2;
  }
  const db::PoolOptions pool_options = config::PoolOptionsFromFlags();
  migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
  int applied = 0;
  if (absl::Status s = db::Migrate(pool_options.conninfo, schema, migrations, &applied); !s.ok()) {
    spdlog::critical("migrations failed: {}", s.ToString());
    return 1;
  }
  spdlog::info("migrations applied={}", applied);

  RaiseOpenFileLimit();
  Server server(config::ServerOptionsFromFlags(schema));
  db::Pool pool(pool_options, &server.registry());
  Executor executor(config::WorkersFromFlags());
  Wakeups wakeups(executor);
  events::Notifier notifier(pool_options.conninfo, events::OutboxChannel(schema));
  notifier.OnChange([&wakeups] { wakeups.Signal(); });
  events::Outbox outbox(schema, &server.registry(), &notifier);
  ServiceContext context{
      **authenticator, *auth_options, pool_options, pool,    outbox,
      notifier,        server,        executor,     wakeups, config::StreamLimitsFromFlags()};
  absl::StatusOr<std::unique_ptr<ServiceParts>> parts = wire(context);
  if (!parts.ok()) {
    spdlog::critical("cannot set up: {}", parts.status().ToString());
    return 1;
  }
  events::EventStreamService events(pool, schema, **authenticator, executor, wakeups,
                                    &server.registry(), {.limits = context.stream_limits});
  events::OutboxMaintenance maintenance(pool, schema, &server.registry(),
                                        {.retention = config::OutboxRetentionFromFlags()});
  server.AddService(&events);
  server.OnShutdown([&] { events.Shutdown(); });
  notifier.Start();
  maintenance.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  (*parts)->Start();
  const int signal_number = WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  server.Shutdown();
  (*parts)->Stop();
  maintenance.Stop();
  notifier.Stop();
  return 0;  // then the wake-ups end, then the executor finishes what is left
}

}  // namespace crm::server
