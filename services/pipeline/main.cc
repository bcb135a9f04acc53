// The pipeline service: pipelines and stages, deals and their moves, products, purchases,
// renewals, cross-sell, and their event stream. Wiring only; the shared runtime is
// common/server/service_main.h.

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/events/consumer.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/pipeline/contacts_follower.h"
#include "services/pipeline/pipeline_service.h"
#include "services/pipeline/renewal_job.h"

extern const std::vector<crm::EmbeddedFile>& PipelineMigrations();

ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051",
          "host:port of the contacts service (deal references are checked there)");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for deals created without one");
ABSL_FLAG(int, renewal_interval_seconds, 60,
          "How often the renewal job looks for due subscriptions");
ABSL_FLAG(int, default_renewal_lead_days, 30,
          "Renewal lead time for tenants whose settings have not arrived yet");

namespace {

crm::events::ConsumerOptions FollowContacts(const std::string& secret,
                                            const crm::events::EventRouter& events) {
  crm::events::ConsumerOptions follow;
  follow.name = "pipeline.contacts";
  follow.schema = "pipeline";
  follow.source_address = absl::GetFlag(FLAGS_contacts_address);
  follow.event_types = events.types();
  follow.token = [secret] { return crm::auth::MintServiceToken("pipeline", secret); };
  return follow;
}

struct PipelineParts final : crm::server::ServiceParts {
  explicit PipelineParts(crm::server::ServiceContext& c)
      : products(c.pool, c.outbox),
        store(c.pool, c.outbox, products),
        contacts(absl::GetFlag(FLAGS_contacts_address)),
        service(store, products, contacts, c.authenticator, c.executor,
                {.default_currency = absl::GetFlag(FLAGS_default_currency)}),
        renewals(c.pool, store, products, &c.server.registry(),
                 {.interval = absl::Seconds(absl::GetFlag(FLAGS_renewal_interval_seconds)),
                  .default_lead_days = absl::GetFlag(FLAGS_default_renewal_lead_days)}),
        contacts_routes(crm::pipeline::ContactsEvents(store)),
        contacts_events(FollowContacts(c.auth_options.service_secret, contacts_routes), c.pool,
                        contacts_routes.handler(), &c.server.registry()) {}

  void Start() override {
    renewals.Start();
    contacts_events.Start();
  }
  void Stop() override {
    contacts_events.Stop();
    renewals.Stop();
  }

  crm::pipeline::ProductStore products;
  crm::pipeline::PipelineStore store;
  crm::pipeline::ContactsClient contacts;
  crm::pipeline::PipelineService service;
  crm::pipeline::RenewalJob renewals;
  crm::events::EventRouter contacts_routes;
  crm::events::EventConsumer contacts_events;
};

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "pipeline service. Flags also read CRM_<FLAG>.");
  crm::log::Init("pipeline", crm::config::LogLevelFromFlags());
  return crm::server::RunService("pipeline", PipelineMigrations(),
                                 [](crm::server::ServiceContext& context)
                                     -> absl::StatusOr<std::unique_ptr<crm::server::ServiceParts>> {
                                   auto parts = std::make_unique<PipelineParts>(context);
                                   context.server.AddService(&parts->service);
                                   return parts;
                                 });
}
