// The pipeline service: pipelines and stages, deals and their moves, products, purchases,
// renewals, cross-sell, and their event stream. Flags only; the wiring is pipeline_wiring.h.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/pipeline/pipeline_wiring.h"

extern const std::vector<crm::EmbeddedFile>& PipelineMigrations();

ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051",
          "host:port of the contacts service (deal references are checked there)");
ABSL_FLAG(std::string, default_currency, "USD", "Currency for deals created without one");
ABSL_FLAG(int, renewal_interval_seconds, 60,
          "How often the renewal job looks for due subscriptions");
ABSL_FLAG(int, default_renewal_lead_days, 30,
          "Renewal lead time for tenants whose settings have not arrived yet");

namespace {

crm::pipeline::PipelineWiring WiringFromFlags() {
  crm::pipeline::PipelineWiring wiring;
  wiring.contacts_address = absl::GetFlag(FLAGS_contacts_address);
  wiring.service.default_currency = absl::GetFlag(FLAGS_default_currency);
  wiring.renewals.interval = absl::Seconds(absl::GetFlag(FLAGS_renewal_interval_seconds));
  wiring.renewals.default_lead_days = absl::GetFlag(FLAGS_default_renewal_lead_days);
  return wiring;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "pipeline service. Flags also read CRM_<FLAG>.");
  crm::log::Init("pipeline", crm::config::LogLevelFromFlags());
  return crm::server::RunService("pipeline", PipelineMigrations(),
                                 crm::pipeline::WirePipeline(WiringFromFlags()));
}
