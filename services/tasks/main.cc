// The tasks service: tasks, reminders fired exactly once, notifications (inbox, live watch,
// webhooks), follow-up tasks from pipeline renewals, and its event stream. Flags only; the
// wiring is tasks_wiring.h.

#include "absl/flags/flag.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/tasks/tasks_wiring.h"

extern const std::vector<crm::EmbeddedFile>& TasksMigrations();

ABSL_FLAG(std::string, contacts_address, "127.0.0.1:50051",
          "host:port of the contacts service (contact names on tasks); empty to not follow it");
ABSL_FLAG(std::string, pipeline_address, "127.0.0.1:50052",
          "host:port of the pipeline service (renewal follow-ups); empty to not follow it");
ABSL_FLAG(int, reminder_max_sleep_ms, 1000,
          "Longest the scheduler sleeps before looking for reminders armed by other replicas");
ABSL_FLAG(int, reminder_late_after_seconds, 60,
          "A reminder firing later than this after its time is marked late");
ABSL_FLAG(int, webhook_timeout_ms, 10000, "Timeout of one webhook POST");
ABSL_FLAG(int, webhook_initial_backoff_ms, 1000,
          "Wait before retrying a failed webhook POST; doubles with each attempt (up to an hour)");
ABSL_FLAG(int, webhook_max_attempts, 12, "Attempts before a webhook delivery is given up");
ABSL_FLAG(bool, webhook_allow_private_addresses, false,
          "Let webhooks reach loopback and private networks (local runs only: a tenant's URL "
          "could otherwise probe the network the service runs in)");
ABSL_FLAG(int, renewal_follow_up_hours, 72,
          "A renewal's follow-up task is due this long after the renewal appears");

namespace {

namespace tasks = crm::tasks;

tasks::WebhookDispatcherOptions DispatcherOptions() {
  tasks::WebhookDispatcherOptions options;
  options.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_timeout_ms));
  options.initial_backoff = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_initial_backoff_ms));
  options.max_attempts = std::max(1, absl::GetFlag(FLAGS_webhook_max_attempts));
  options.allow_private_addresses = absl::GetFlag(FLAGS_webhook_allow_private_addresses);
  // Guards against settings that would spin: no retry sooner than 10 ms, no timeout below 100 ms.
  options.initial_backoff = std::max(options.initial_backoff, absl::Milliseconds(10));
  options.timeout = std::max(options.timeout, absl::Milliseconds(100));
  return options;
}

tasks::TasksWiring WiringFromFlags() {
  tasks::TasksWiring wiring;
  wiring.contacts_address = absl::GetFlag(FLAGS_contacts_address);
  wiring.pipeline_address = absl::GetFlag(FLAGS_pipeline_address);
  wiring.renewal.follow_up_after = absl::Hours(absl::GetFlag(FLAGS_renewal_follow_up_hours));
  wiring.webhooks = DispatcherOptions();
  wiring.scheduler.max_sleep =
      absl::Milliseconds(std::max(10, absl::GetFlag(FLAGS_reminder_max_sleep_ms)));
  wiring.scheduler.late_after = absl::Seconds(absl::GetFlag(FLAGS_reminder_late_after_seconds));
  return wiring;
}

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "tasks service. Flags also read CRM_<FLAG>.");
  crm::log::Init("tasks", crm::config::LogLevelFromFlags());
  return crm::server::RunService("tasks", TasksMigrations(), tasks::WireTasks(WiringFromFlags()));
}
