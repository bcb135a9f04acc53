// The reporting service: read models fed by the contacts, pipeline and tasks event streams,
// reports as rows, CSV and SVG charts, and scheduled reports. Flags only; the wiring is
// reporting_wiring.h.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/reporting/reporting_wiring.h"

extern const std::vector<crm::EmbeddedFile>& ReportingMigrations();

ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051",
          "host:port of the contacts service; empty to not follow it");
ABSL_FLAG(std::string, pipeline_address, "127.0.0.1:50052",
          "host:port of the pipeline service; empty to not follow it");
ABSL_FLAG(std::string, tasks_address, "127.0.0.1:50053",
          "host:port of the tasks service; empty to not follow it");
ABSL_FLAG(int, schedule_interval_seconds, 30, "How often due report schedules are looked for");
ABSL_FLAG(bool, rebuild_read_models, false,
          "Empty the read models and replay every event from position 0 (run one replica)");

namespace {

crm::reporting::ReportingWiring WiringFromFlags() {
  crm::reporting::ReportingWiring wiring;
  wiring.contacts_address = absl::GetFlag(FLAGS_contacts_address);
  wiring.pipeline_address = absl::GetFlag(FLAGS_pipeline_address);
  wiring.tasks_address = absl::GetFlag(FLAGS_tasks_address);
  wiring.scheduler.interval = absl::Seconds(absl::GetFlag(FLAGS_schedule_interval_seconds));
  wiring.rebuild_read_models = absl::GetFlag(FLAGS_rebuild_read_models);
  return wiring;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "reporting service. Flags also read CRM_<FLAG>.");
  crm::log::Init("reporting", crm::config::LogLevelFromFlags());
  return crm::server::RunService("reporting", ReportingMigrations(),
                                 crm::reporting::WireReporting(WiringFromFlags()));
}
