// gRPC adapter of the tasks service: authenticates, applies the rules, calls the stores, converts
// errors. Notifications, the live watch and webhooks are in tasks_service_notifications.cc.
#pragma once

#include <atomic>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/authenticator.h"
#include "common/fields/custom_field_service.h"
#include "common/fields/custom_fields_api.h"
#include "common/server/rpc.h"
#include "common/server/stream_limiter.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"
#include "services/tasks/notification_hub.h"
#include "services/tasks/notification_store.h"
#include "services/tasks/task_store.h"

namespace crm::tasks {

struct TasksServiceOptions {
  // Open watches per user, per tenant and in all on one replica.
  server::StreamLimits streams;
  // Notifications a watch may have queued for a client that does not read; past it the watch
  // ends (RESOURCE_EXHAUSTED) and the client watches again (the inbox has them all).
  size_t max_queued_per_watch = 1000;
};

// WatchNotifications is served by a reactor fed by the NotificationHub (no thread per watch);
// every RPC goes through rpcs_ (common/server/rpc.h).
class TasksService final : public fields::ServesCustomFields<v1::TasksService::CallbackService> {
 public:
  // `hub` delivers fired reminders to the watches.
  TasksService(TaskStore& tasks, NotificationStore& notifications, NotificationHub& hub,
               fields::DefinitionStore& custom_fields, const auth::Authenticator& authenticator,
               server::Executor& executor, TasksServiceOptions options = {});

  grpc::ServerUnaryReactor* CreateTask(grpc::CallbackServerContext* context,
                                       const v1::CreateTaskRequest* request,
                                       v1::Task* response) override;
  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* context,
                                    const v1::GetTaskRequest* request, v1::Task* response) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* context,
                                      const v1::ListTasksRequest* request,
                                      v1::ListTasksResponse* response) override;
  grpc::ServerUnaryReactor* UpdateTask(grpc::CallbackServerContext* context,
                                       const v1::UpdateTaskRequest* request,
                                       v1::Task* response) override;
  grpc::ServerUnaryReactor* DeleteTask(grpc::CallbackServerContext* context,
                                       const v1::DeleteTaskRequest* request,
                                       google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListNotifications(grpc::CallbackServerContext* context,
                                              const v1::ListNotificationsRequest* request,
                                              v1::ListNotificationsResponse* response) override;
  grpc::ServerUnaryReactor* MarkNotificationRead(grpc::CallbackServerContext* context,
                                                 const v1::MarkNotificationReadRequest* request,
                                                 v1::Notification* response) override;
  grpc::ServerWriteReactor<v1::Notification>* WatchNotifications(
      grpc::CallbackServerContext* context, const v1::WatchNotificationsRequest* request) override;
  grpc::ServerUnaryReactor* CreateWebhook(grpc::CallbackServerContext* context,
                                          const v1::CreateWebhookRequest* request,
                                          v1::Webhook* response) override;
  grpc::ServerUnaryReactor* ListWebhooks(grpc::CallbackServerContext* context,
                                         const v1::ListWebhooksRequest* request,
                                         v1::ListWebhooksResponse* response) override;
  grpc::ServerUnaryReactor* DeleteWebhook(grpc::CallbackServerContext* context,
                                          const v1::DeleteWebhookRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListWebhookDeliveries(
      grpc::CallbackServerContext* context, const v1::ListWebhookDeliveriesRequest* request,
      v1::ListWebhookDeliveriesResponse* response) override;
  // The custom field RPCs come from fields::ServesCustomFields.

  // Ends every open watch with UNAVAILABLE so a graceful shutdown need not wait for them.
  void Shutdown();

  class Watch;

 private:
  const server::Rpcs& rpcs() const override { return rpcs_; }
  fields::CustomFieldsApi& fields_api() override { return fields_api_; }

  TaskStore& tasks_;
  NotificationStore& notifications_;
  NotificationHub& hub_;
  fields::CustomFieldsApi fields_api_;
  const server::Rpcs rpcs_;
  const TasksServiceOptions options_;
  // Open watches per user and tenant (RESOURCE_EXHAUSTED above the bounds).
  server::StreamLimiter streams_;
  absl::Mutex watches_mu_;
  absl::flat_hash_set<Watch*> watches_ ABSL_GUARDED_BY(watches_mu_);
  bool shutting_down_ ABSL_GUARDED_BY(watches_mu_) = false;
};

}  // namespace crm::tasks
