// The tasks service's own objects on the shared runtime (common/server/service_runtime.h).
// main() and the tests wire the service with this one function; only the options differ.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/events/consumer.h"
#include "common/events/notifier.h"
#include "common/fields/definition_store.h"
#include "common/server/service_runtime.h"
#include "services/tasks/event_followers.h"
#include "services/tasks/notification_hub.h"
#include "services/tasks/notification_store.h"
#include "services/tasks/reminder_scheduler.h"
#include "services/tasks/task_store.h"
#include "services/tasks/tasks_service.h"
#include "services/tasks/webhook_dispatcher.h"

namespace crm::tasks {

struct TasksWiring {
  std::string contacts_address;  // host:port to follow for contact names; empty: not followed
  std::string pipeline_address;  // host:port to follow for renewal follow-ups; empty: not followed
  RenewalTaskOptions renewal;
  WebhookDispatcherOptions webhooks;
  ReminderSchedulerOptions scheduler;
};

struct TasksParts final : server::ServiceParts {
  TasksParts(server::ServiceContext& c, const TasksWiring& wiring);
  void Start() override;
  void Stop() override;

  events::Notifier notifier;              // wakes watchers when a reminder fired on any replica
  fields::DefinitionStore custom_fields;  // before the store: it frees unique values it holds
  TaskStore store;
  NotificationStore notifications;
  NotificationHub hub;  // hands fired reminders to this replica's watches
  TasksService service;
  WebhookDispatcher webhooks;
  ReminderScheduler scheduler;
  std::vector<std::unique_ptr<events::EventConsumer>> followers;
};

// Builds TasksParts and adds the service to the server.
server::WireService WireTasks(TasksWiring wiring);

}  // namespace crm::tasks
