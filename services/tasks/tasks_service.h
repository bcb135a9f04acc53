// gRPC adapter of the tasks service: authenticates, applies the rules, calls the stores, converts
// errors. Notifications, the live watch and webhooks are in tasks_service_notifications.cc.
#pragma once

#include <atomic>
#include <string>

#include "common/auth/authenticator.h"
#include "common/events/notifier.h"
#include "common/server/stream_limiter.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"
#include "services/tasks/notification_store.h"
#include "services/tasks/task_store.h"

namespace crm::tasks {

struct TasksServiceOptions {
  // How far back a watcher looks for notifications committed after it last looked; longer than
  // the scheduler's transaction deadline, so a slow commit is still seen.
  absl::Duration watch_window = absl::Seconds(30);
  // Longest a watcher waits without a wake-up before looking again (the safety net).
  absl::Duration watch_poll = absl::Seconds(1);
};

class TasksService final : public v1::TasksService::Service {
 public:
  // `notifications` wakes watchers when a reminder fired on any replica.
  TasksService(TaskStore& tasks, NotificationStore& notifications, const events::Notifier& notifier,
               const auth::Authenticator& authenticator, TasksServiceOptions options = {});

  grpc::Status CreateTask(grpc::ServerContext* context, const v1::CreateTaskRequest* request,
                          v1::Task* response) override;
  grpc::Status GetTask(grpc::ServerContext* context, const v1::GetTaskRequest* request,
                       v1::Task* response) override;
  grpc::Status ListTasks(grpc::ServerContext* context, const v1::ListTasksRequest* request,
                         v1::ListTasksResponse* response) override;
  grpc::Status UpdateTask(grpc::ServerContext* context, const v1::UpdateTaskRequest* request,
                          v1::Task* response) override;
  grpc::Status DeleteTask(grpc::ServerContext* context, const v1::DeleteTaskRequest* request,
                          google::protobuf::Empty* response) override;
  grpc::Status ListNotifications(grpc::ServerContext* context,
                                 const v1::ListNotificationsRequest* request,
                                 v1::ListNotificationsResponse* response) override;
  grpc::Status MarkNotificationRead(grpc::ServerContext* context,
                                    const v1::MarkNotificationReadRequest* request,
                                    v1::Notification* response) override;
  grpc::Status WatchNotifications(grpc::ServerContext* context,
                                  const v1::WatchNotificationsRequest* request,
                                  grpc::ServerWriter<v1::Notification>* writer) override;
  grpc::Status CreateWebhook(grpc::ServerContext* context, const v1::CreateWebhookRequest* request,
                             v1::Webhook* response) override;
  grpc::Status ListWebhooks(grpc::ServerContext* context, const v1::ListWebhooksRequest* request,
                            v1::ListWebhooksResponse* response) override;
  grpc::Status DeleteWebhook(grpc::ServerContext* context, const v1::DeleteWebhookRequest* request,
                             google::protobuf::Empty* response) override;
  grpc::Status ListWebhookDeliveries(grpc::ServerContext* context,
                                     const v1::ListWebhookDeliveriesRequest* request,
                                     v1::ListWebhookDeliveriesResponse* response) override;

  // Ends every open watch with UNAVAILABLE so a graceful shutdown need not wait for them.
  void Shutdown() { shutting_down_ = true; }

 private:
  absl::Status Watch(grpc::ServerContext& context, grpc::ServerWriter<v1::Notification>& writer);

  TaskStore& tasks_;
  NotificationStore& notifications_;
  const events::Notifier& notifier_;
  const auth::Authenticator& authenticator_;
  // Open watches, exports and imports per user (RESOURCE_EXHAUSTED above the bound).
  server::StreamLimiter streams_{server::kMaxStreamsPerUser, server::kMaxStreamsInAll};
  const TasksServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace crm::tasks
