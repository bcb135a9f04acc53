// The reporting service's own objects on the shared runtime (common/server/service_runtime.h):
// the one wiring function main() uses, and anything that serves reporting in-process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/events/consumer.h"
#include "common/server/service_runtime.h"
#include "services/reporting/report_engine.h"
#include "services/reporting/reporting_service.h"
#include "services/reporting/schedules.h"

namespace crm::reporting {

struct ReportingWiring {
  // host:port of each source whose events feed the read models; empty: not followed.
  std::string contacts_address;
  std::string pipeline_address;
  std::string tasks_address;
  ReportSchedulerOptions scheduler;
  // Empty the read models at start and replay every event from position 0 (one replica only).
  bool rebuild_read_models = false;
};

struct ReportingParts final : server::ServiceParts {
  ReportingParts(server::ServiceContext& c, const ReportingWiring& wiring);
  void Start() override;
  void Stop() override;

  db::Pool& pool;
  const bool rebuild_read_models;
  ReportEngine engine;
  ScheduleStore schedules;
  ReportingService service;
  ReportScheduler scheduler;
  std::vector<std::string> consumer_names;  // every source's, followed or not (for a rebuild)
  std::vector<std::unique_ptr<events::EventConsumer>> consumers;
};

// Builds ReportingParts and adds the service to the server.
server::WireService WireReporting(ReportingWiring wiring);

}  // namespace crm::reporting
