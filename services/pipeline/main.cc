// The pipeline service: pipelines and stages, deals, moves with stage history, and their event
// stream. Wiring only: flags -> migrations -> pool -> store -> services -> server, until SIGTERM.

#include "absl/flags/flag.h"
#include "common/auth/jwt.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/db/migrations.h"
#include "common/events/consumer.h"
#include "common/events/event_stream_service.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/events/outbox_maintenance.h"
#include "common/log/log.h"
#include "services/pipeline/contacts_follower.h"
#include "services/pipeline/pipeline_service.h"
#include "services/pipeline/renewal_job.h"

extern const std::vector<crm::EmbeddedFile>& PipelineMigrations();
extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051",
          "host:port of the contacts service (deal references are checked there)");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for deals created without one");
ABSL_FLAG(std::string, service_token, "",
          "Bearer token with the service role for following the contacts events (inline or "
          "@file); minted from --jwt_secret when empty");
ABSL_FLAG(int, renewal_interval_seconds, 60,
          "How often the renewal job looks for due subscriptions");
ABSL_FLAG(int, default_renewal_lead_days, 30,
          "Renewal lead time for tenants whose settings have not arrived yet");

namespace {

constexpr char kSchema[] = "pipeline";

int Run() {
  auto auth_options = crm::config::AuthOptionsFromFlags();
  auto authenticator =
      auth_options.ok() ? crm::auth::Authenticator::Create(*auth_options) : auth_options.status();
  if (!authenticator.ok()) {
    spdlog::critical("bad auth configuration: {}", authenticator.status().ToString());
    return 2;
  }
  crm::db::PoolOptions pool_options = crm::config::PoolOptionsFromFlags();
  std::vector<crm::EmbeddedFile> migrations = PipelineMigrations();
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
  crm::pipeline::ProductStore products(pool, outbox);
  crm::pipeline::PipelineStore store(pool, outbox, products);
  crm::pipeline::ContactsClient contacts(absl::GetFlag(FLAGS_contacts_address));
  crm::pipeline::PipelineServiceOptions options;
  options.default_currency = absl::GetFlag(FLAGS_default_currency);
  crm::pipeline::PipelineService service(store, products, contacts, **authenticator, options);
  crm::pipeline::RenewalJob renewals(
      pool, store, products, &server.registry(),
      {.interval = absl::Seconds(absl::GetFlag(FLAGS_renewal_interval_seconds)),
       .default_lead_days = absl::GetFlag(FLAGS_default_renewal_lead_days)});
  crm::events::EventStreamService events(pool, kSchema, **authenticator, notifier,
                                         &server.registry());
  crm::events::OutboxMaintenance maintenance(
      pool, kSchema, &server.registry(), {.retention = crm::config::OutboxRetentionFromFlags()});
  crm::events::ConsumerOptions follow;
  follow.name = "pipeline.contacts";
  follow.schema = kSchema;
  follow.source_address = absl::GetFlag(FLAGS_contacts_address);
  follow.event_types = crm::pipeline::ContactsEventTypes();
  follow.token = [secret = auth_options.ok() ? auth_options->hs256_secret : std::string()] {
    auto configured = crm::auth::ReadSecret(absl::GetFlag(FLAGS_service_token));
    if (configured.ok() && !configured->empty()) return *configured;
    crm::auth::Claims claims;
    claims.subject = "pipeline";
    claims.tenant = "system";
    claims.roles = {"service"};
    claims.expires = absl::Now() + absl::Hours(1);
    return crm::auth::SignHs256(claims, secret);
  };
  crm::events::EventConsumer contacts_events(
      follow, pool, crm::pipeline::ContactsEventHandler(store), &server.registry());
  server.AddService(&service);
  server.AddService(&events);
  server.OnShutdown([&] { events.Shutdown(); });
  notifier.Start();
  maintenance.Start();
  renewals.Start();
  contacts_events.Start();
  if (absl::Status s = server.Start(); !s.ok()) {
    spdlog::critical("cannot start: {}", s.ToString());
    return 1;
  }
  const int signal_number = crm::server::WaitForTerminationSignal();
  spdlog::info("shutdown signal={}", signal_number);
  server.Shutdown();
  contacts_events.Stop();
  renewals.Stop();
  maintenance.Stop();
  notifier.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::config::ParseFlagsWithEnv(argc, argv, "pipeline service. Flags also read CRM_<FLAG>.");
  crm::log::Init(kSchema, crm::config::LogLevelFromFlags());
  return Run();
}
