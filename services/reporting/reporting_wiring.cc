#include "services/reporting/reporting_wiring.h"

#include "common/log/log.h"
#include "services/reporting/read_model.h"

namespace crm::reporting {
namespace {

struct Source {
  std::string name;  // the consumer's (and checkpoint's) name
  std::string address;
  events::EventRouter events;
};

}  // namespace

ReportingParts::ReportingParts(server::ServiceContext& c, const ReportingWiring& wiring)
    : pool(c.pool),
      rebuild_read_models(wiring.rebuild_read_models),
      engine(c.pool),
      schedules(c.pool, engine),
      service(engine, schedules, c.authenticator, c.executor),
      scheduler(c.pool, engine, c.outbox, &c.server.registry(), wiring.scheduler) {
  const std::vector<Source> sources = {
      {"reporting.contacts", wiring.contacts_address, ContactsEvents()},
      {"reporting.pipeline", wiring.pipeline_address, PipelineEvents()},
      {"reporting.tasks", wiring.tasks_address, TasksEvents()}};
  for (const Source& source : sources) {
    consumer_names.push_back(source.name);
    if (!source.address.empty()) {
      consumers.push_back(server::FollowEvents(c, source.name, source.address, source.events));
    }
  }
}

void ReportingParts::Start() {
  if (rebuild_read_models) {
    if (absl::Status reset = ResetReadModels(pool, consumer_names); !reset.ok()) {
      spdlog::critical("rebuild: cannot reset the read models: {}", reset.ToString());
    } else {
      spdlog::warn("rebuild: read models emptied; replaying every event from position 0");
    }
  }
  for (auto& consumer : consumers) consumer->Start();
  scheduler.Start();
}

void ReportingParts::Stop() {
  scheduler.Stop();
  for (auto& consumer : consumers) consumer->Stop();
}

server::WireService WireReporting(ReportingWiring wiring) {
  return server::WireParts<ReportingParts>(std::move(wiring));
}

}  // namespace crm::reporting
