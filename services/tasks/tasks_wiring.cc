#include "services/tasks/tasks_wiring.h"

namespace crm::tasks {

TasksParts::TasksParts(server::ServiceContext& c, const TasksWiring& wiring)
    : notifier(c.pool_options.conninfo, "crm_notifications_tasks"),
      custom_fields(c.pool, c.outbox, "tasks", {{common::v1::OBJECT_TYPE_TASK, "tasks.tasks"}}),
      store(c.pool, c.outbox, custom_fields.unique(),
            [this](absl::Time at) { scheduler.WakeAt(at); }),
      notifications(c.pool),
      hub(c.pool, notifier),
      service(store, notifications, hub, custom_fields, c.authenticator, c.executor,
              {.streams = c.stream_limits}),
      webhooks(c.pool, &c.server.registry(), wiring.webhooks),
      scheduler(
          c.pool, c.outbox, &notifier, [this] { webhooks.Wake(); }, &c.server.registry(),
          wiring.scheduler) {
  if (!wiring.contacts_address.empty()) {
    followers.push_back(
        server::FollowEvents(c, "tasks.contacts", wiring.contacts_address, ContactsEvents(store)));
  }
  if (!wiring.pipeline_address.empty()) {
    followers.push_back(server::FollowEvents(c, "tasks.pipeline", wiring.pipeline_address,
                                             PipelineEvents(store, wiring.renewal)));
  }
  c.server.OnShutdown([this] { service.Shutdown(); });
}

void TasksParts::Start() {
  notifier.Start();
  hub.Start();
  webhooks.Start();
  scheduler.Start();
  for (auto& follower : followers) follower->Start();
}

void TasksParts::Stop() {
  for (auto& follower : followers) follower->Stop();
  scheduler.Stop();
  webhooks.Stop();
  notifier.Stop();
  hub.Stop();
}

server::WireService WireTasks(TasksWiring wiring) {
  return server::WireParts<TasksParts>(std::move(wiring));
}

}  // namespace crm::tasks
