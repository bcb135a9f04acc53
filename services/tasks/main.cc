// The tasks service: tasks, reminders fired exactly once, notifications (inbox, live watch,
// webhooks), follow-up tasks from pipeline renewals, and its event stream. Wiring only; the
// shared runtime is common/server/service_main.h.

#include "absl/flags/flag.h"
#include "common/auth/authenticator.h"
#include "common/config/env_flags.h"
#include "common/config/service_flags.h"
#include "common/events/consumer.h"
#include "common/log/log.h"
#include "common/server/service_main.h"
#include "services/tasks/event_followers.h"
#include "services/tasks/reminder_scheduler.h"
#include "services/tasks/tasks_service.h"
#include "services/tasks/webhook_dispatcher.h"

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

crm::events::ConsumerOptions Follow(const std::string& name, const std::string& address,
                                    std::vector<std::string> types, const std::string& secret) {
  crm::events::ConsumerOptions follow;
  follow.name = name;
  follow.schema = "tasks";
  follow.source_address = address;
  follow.event_types = std::move(types);
  follow.token = [secret] { return crm::auth::MintServiceToken("tasks", secret); };
  return follow;
}

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

tasks::ReminderSchedulerOptions SchedulerOptions() {
  tasks::ReminderSchedulerOptions options;
  options.max_sleep = absl::Milliseconds(std::max(10, absl::GetFlag(FLAGS_reminder_max_sleep_ms)));
  options.late_after = absl::Seconds(absl::GetFlag(FLAGS_reminder_late_after_seconds));
  return options;
}

struct TasksParts final : crm::server::ServiceParts {
  explicit TasksParts(crm::server::ServiceContext& c)
      : notifier(c.pool_options.conninfo, "crm_notifications_tasks"),
        store(c.pool, c.outbox, [this](absl::Time at) { scheduler.WakeAt(at); }),
        notifications(c.pool),
        hub(c.pool, notifier),
        service(store, notifications, hub, c.authenticator, c.executor,
                {.streams = c.stream_limits}),
        webhooks(c.pool, &c.server.registry(), DispatcherOptions()),
        scheduler(
            c.pool, c.outbox, &notifier, [this] { webhooks.Wake(); }, &c.server.registry(),
            SchedulerOptions()) {
    const std::string& secret = c.auth_options.service_secret;
    if (!absl::GetFlag(FLAGS_contacts_address).empty()) {
      const crm::events::EventRouter events = tasks::ContactsEvents(store);
      followers.push_back(std::make_unique<crm::events::EventConsumer>(
          Follow("tasks.contacts", absl::GetFlag(FLAGS_contacts_address), events.types(), secret),
          c.pool, events.handler(), &c.server.registry()));
    }
    if (!absl::GetFlag(FLAGS_pipeline_address).empty()) {
      tasks::RenewalTaskOptions renewal;
      renewal.follow_up_after = absl::Hours(absl::GetFlag(FLAGS_renewal_follow_up_hours));
      const crm::events::EventRouter events = tasks::PipelineEvents(store, renewal);
      followers.push_back(std::make_unique<crm::events::EventConsumer>(
          Follow("tasks.pipeline", absl::GetFlag(FLAGS_pipeline_address), events.types(), secret),
          c.pool, events.handler(), &c.server.registry()));
    }
    c.server.OnShutdown([this] { service.Shutdown(); });
  }

  void Start() override {
    notifier.Start();
    hub.Start();
    webhooks.Start();
    scheduler.Start();
    for (auto& follower : followers) follower->Start();
  }
  void Stop() override {
    for (auto& follower : followers) follower->Stop();
    scheduler.Stop();
    webhooks.Stop();
    notifier.Stop();
    hub.Stop();
  }

  crm::events::Notifier notifier;  // wakes watchers when a reminder fired on any replica
  tasks::TaskStore store;
  tasks::NotificationStore notifications;
  tasks::NotificationHub hub;  // hands fired reminders to this replica's watches
  tasks::TasksService service;
  tasks::WebhookDispatcher webhooks;
  tasks::ReminderScheduler scheduler;
  std::vector<std::unique_ptr<crm::events::EventConsumer>> followers;
};

}  // namespace

int main(int argc, char** argv) {
  crm::server::BlockTerminationSignals();
  crm::server::SkipMutexDeadlockDetection();
  crm::config::ParseFlagsWithEnv(argc, argv, "tasks service. Flags also read CRM_<FLAG>.");
  crm::log::Init("tasks", crm::config::LogLevelFromFlags());
  return crm::server::RunService("tasks", TasksMigrations(),
                                 [](crm::server::ServiceContext& context)
                                     -> absl::StatusOr<std::unique_ptr<crm::server::ServiceParts>> {
                                   auto parts = std::make_unique<TasksParts>(context);
                                   context.server.AddService(&parts->service);
                                   return parts;
                                 });
}
