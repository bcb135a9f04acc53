// The contacts service: companies, contacts, dedup, tenant settings, and their event stream.
// Wiring only: flags -> migrations -> pool -> store -> services -> server, until SIGTERM.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/db/migrations.h"
#include "common/events/event_stream_service.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/events/outbox_maintenance.h"
#include "common/log/log.h"
#include "services/contacts/contacts_service.h"

extern const std::vector<crm::EmbeddedFile>& ContactsMigrations();
extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

ABSL_FLAG(std::string, default_phone_region, "US",
          "Phone region for tenants that have not set one (ISO 3166-1 alpha-2)");
ABSL_FLAG(std::string, default_time_zone, "UTC", "Time zone for tenants that have not set one");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for tenants that have not set one");

namespace {

constexpr char kSchema[] = "contacts";

int Run() {
  auto auth_options = crm::config::AuthOptionsFromFlags();
  auto authenticator =
      auth_options.ok() ? crm::auth::Authenticator::Create(*auth_options) : auth_options.status();
  if (!authenticator.ok()) {
    spdlog::critical("bad auth configuration: {}", authenticator.status().ToString());
    return 2;
  }
  crm::db::PoolOptions pool_options = crm::config::PoolOptionsFromFlags();
  std::vector<crm::EmbeddedFile> migrations = ContactsMigrations();
  migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
  int applied = 0;
  if (absl::Status s = crm::db::Migrate(pool_options.conninfo, kSchema, migrations, &applied);
      !s.ok()) {
    spdlog::critical("migrations failed: {}", s.ToString());
    return 1;
  }
  spdlog::info("migrations applied={}", applied);

  crm::server::Server server(crm::config::ServerOptionsFromFlags(kSchema));
  crm::db::Pool pool(pool_options, &server.registry());
  crm::events::Notifier notifier(pool_options.conninfo, crm::events::OutboxChannel(kSchema));
  crm::events::Outbox outbox(kSchema, &server.registry(), &notifier);
  crm::contacts::ContactsStore store(pool, outbox);
  crm::contacts::ContactsServiceOptions options;
  options.default_settings.set_default_phone_region(absl::GetFlag(FLAGS_default_phone_region));
  options.default_settings.set_time_zone(absl::GetFlag(FLAGS_default_time_zone));
  options.default_settings.set_default_currency(absl::GetFlag(FLAGS_default_currency));
  options.default_settings.set_fiscal_year_start_month(1);
  options.default_settings.set_renewal_lead_days(30);
  crm::contacts::ActivityStore activities(pool, outbox);
  crm::contacts::SegmentStore segments(pool, outbox);
  crm::contacts::ContactsService contacts(store, activities, segments, **authenticator, options);

  crm::events::EventStreamService events(pool, kSchema, **authenticator, notifier,
                                         &server.registry());
  crm::events::OutboxMaintenance maintenance(
      pool, kSchema, &server.registry(), {.retention = crm::config::OutboxRetentionFromFlags()});
  server.AddService(&contacts);
  server.AddService(&events);
  server.OnShutdown([&] { events.Shutdown(); });
  notifier.Start();
  maintenance.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  const int signal_number = crm::server::WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  server.Shutdown();
  maintenance.Stop();
  notifier.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::config::ParseFlagsWithEnv(argc, argv, "contacts service. Flags also read CRM_<FLAG>.");
  crm::log::Init(kSchema, crm::config::LogLevelFromFlags());
  return Run();
}
