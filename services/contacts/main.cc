// The contacts service: companies, contacts, dedup, tenant settings.
// Wiring only: flags -> migrations -> pool -> store -> service -> server, until SIGTERM.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/db/migrations.h"
#include "common/log/log.h"
#include "services/contacts/contacts_service.h"

extern const std::vector<crm::EmbeddedFile>& ContactsMigrations();

ABSL_FLAG(std::string, default_phone_region, "US",
          "Phone region for tenants that have not set one (ISO 3166-1 alpha-2)");
ABSL_FLAG(std::string, default_time_zone, "UTC", "Time zone for tenants that have not set one");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for tenants that have not set one");

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::config::ParseFlagsWithEnv(argc, argv, "contacts service. Flags also read CRM_<FLAG>.");
  crm::log::Init("contacts", crm::config::LogLevelFromFlags());

  auto auth_options = crm::config::AuthOptionsFromFlags();
  if (!auth_options.ok()) {
    spdlog::critical("bad auth configuration: {}", auth_options.status().ToString());
    return 2;
  }
  auto authenticator = crm::auth::Authenticator::Create(*auth_options);
  if (!authenticator.ok()) {
    spdlog::critical("bad auth configuration: {}", authenticator.status().ToString());
    return 2;
  }
  crm::db::PoolOptions pool_options = crm::config::PoolOptionsFromFlags();
  int applied = 0;
  if (absl::Status s = crm::db::Migrate(pool_options.conninfo, "contacts", ContactsMigrations(),
                                        &applied);
      !s.ok()) {
    spdlog::critical("migrations failed: {}", s.ToString());
    return 1;
  }
  spdlog::info("migrations applied={}", applied);

  crm::server::Server server(crm::config::ServerOptionsFromFlags("contacts"));
  crm::db::Pool pool(pool_options, &server.registry());
  crm::contacts::ContactsStore store(pool);
  crm::contacts::ContactsServiceOptions options;
  options.default_settings.set_default_phone_region(absl::GetFlag(FLAGS_default_phone_region));
  options.default_settings.set_time_zone(absl::GetFlag(FLAGS_default_time_zone));
  options.default_settings.set_default_currency(absl::GetFlag(FLAGS_default_currency));
  options.default_settings.set_fiscal_year_start_month(1);
  options.default_settings.set_renewal_lead_days(30);
  crm::contacts::ContactsService service(store, **authenticator, options);
  server.AddService(&service);
  if (absl::Status s = server.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  const int signal_number = crm::server::WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  server.Shutdown();
  return 0;
}
