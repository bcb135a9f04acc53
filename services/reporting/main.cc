// The reporting service: read models fed by the contacts, pipeline and tasks event streams,
// reports as rows, CSV and SVG charts, and scheduled reports. Wiring only; the shared runtime is
// common/server/service_main.h.

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/events/consumer.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/reporting/read_model.h"
#include "services/reporting/reporting_service.h"
#include "services/reporting/schedules.h"

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

namespace reporting = crm::reporting;

struct Source {
  std::string name;  // the consumer's (and checkpoint's) name
  std::string address;
  crm::events::EventRouter events;
};

struct ReportingParts final : crm::server::ServiceParts {
  explicit ReportingParts(crm::server::ServiceContext& c)
      : pool(c.pool),
        engine(c.pool),
        schedules(c.pool, engine),
        service(engine, schedules, c.authenticator, c.executor),
        scheduler(c.pool, engine, c.outbox, &c.server.registry(),
                  {.interval = absl::Seconds(absl::GetFlag(FLAGS_schedule_interval_seconds))}) {
    const std::vector<Source> sources = {
        {"reporting.contacts", absl::GetFlag(FLAGS_contacts_address), reporting::ContactsEvents()},
        {"reporting.pipeline", absl::GetFlag(FLAGS_pipeline_address), reporting::PipelineEvents()},
        {"reporting.tasks", absl::GetFlag(FLAGS_tasks_address), reporting::TasksEvents()}};
    for (const Source& source : sources) {
      consumer_names.push_back(source.name);
      if (source.address.empty()) continue;
      crm::events::ConsumerOptions options;
      options.name = source.name;
      options.schema = "reporting";
      options.source_address = source.address;
      options.event_types = source.events.types();
      options.token = [secret = c.auth_options.service_secret] {
        return crm::auth::MintServiceToken("reporting", secret);
      };
      consumers.push_back(std::make_unique<crm::events::EventConsumer>(
          options, c.pool, source.events.handler(), &c.server.registry()));
    }
  }

  void Start() override {
    if (absl::GetFlag(FLAGS_rebuild_read_models)) {
      if (absl::Status reset = reporting::ResetReadModels(pool, consumer_names); !reset.ok()) {
        spdlog::critical("rebuild: cannot reset the read models: {}", reset.ToString());
      } else {
        spdlog::warn("rebuild: read models emptied; replaying every event from position 0");
      }
    }
    for (auto& consumer : consumers) consumer->Start();
    scheduler.Start();
  }
  void Stop() override {
    scheduler.Stop();
    for (auto& consumer : consumers) consumer->Stop();
  }

  crm::db::Pool& pool;
  reporting::ReportEngine engine;
  reporting::ScheduleStore schedules;
  reporting::ReportingService service;
  reporting::ReportScheduler scheduler;
  std::vector<std::string> consumer_names;
  std::vector<std::unique_ptr<crm::events::EventConsumer>> consumers;
};

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "reporting service. Flags also read CRM_<FLAG>.");
  crm::log::Init("reporting", crm::config::LogLevelFromFlags());
  return crm::server::RunService("reporting", ReportingMigrations(),
                                 [](crm::server::ServiceContext& context)
                                     -> absl::StatusOr<std::unique_ptr<crm::server::ServiceParts>> {
                                   auto parts = std::make_unique<ReportingParts>(context);
                                   context.server.AddService(&parts->service);
                                   return parts;
                                 });
}
