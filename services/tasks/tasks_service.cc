#include "services/tasks/tasks_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "common/server/server.h"
#include "services/tasks/service_support.h"
#include "services/tasks/task_filters.h"
#include "services/tasks/task_rules.h"

namespace crm::tasks {
namespace {

// Only what a client may write; output-only fields are ignored as AIP-203 asks.
v1::Task WritableFields(const v1::Task& in) {
  v1::Task t;
  t.set_title(in.title());
  t.set_description(in.description());
  t.set_assignee(in.assignee());
  t.set_contact(in.contact());
  t.set_company(in.company());
  t.set_deal(in.deal());
  t.set_priority(in.priority());
  t.set_status(in.status());
  if (in.has_due_time()) *t.mutable_due_time() = in.due_time();
  if (in.has_reminder_time()) *t.mutable_reminder_time() = in.reminder_time();
  t.set_time_zone(in.time_zone());
  *t.mutable_custom_fields() = in.custom_fields();
  return t;
}

// Tasks' list queries name their table t (they join the names of related records).
fields::CustomFieldsApi::Hooks TaskFieldsHooks() {
  fields::CustomFieldsApi::Hooks hooks = fields::CustomFieldsApi::WithoutRegionOrRelations(
      {{common::v1::OBJECT_TYPE_TASK, v1::Task::descriptor()->full_name()}});
  hooks.id_column = "t.id";
  return hooks;
}

}  // namespace

TasksService::TasksService(TaskStore& tasks, NotificationStore& notifications, NotificationHub& hub,
                           fields::DefinitionStore& custom_fields,
                           const auth::Authenticator& authenticator, server::Executor& executor,
                           TasksServiceOptions options)
    : tasks_(tasks),
      notifications_(notifications),
      hub_(hub),
      fields_api_(custom_fields, TaskFieldsHooks()),
      rpcs_(authenticator, executor, v1::TasksService::service_full_name()),
      options_(options),
      streams_(options_.streams) {}

grpc::ServerUnaryReactor* TasksService::CreateTask(grpc::CallbackServerContext* context,
                                                   const v1::CreateTaskRequest* request,
                                                   v1::Task* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    v1::Task task = WritableFields(request->task());
    if (task.assignee().empty()) task.set_assignee(caller.user);
    RETURN_IF_ERROR(NormalizeTask(task));
    if (!caller.CanChangeOwnedBy(task.assignee())) {
      return absl::PermissionDeniedError("reps assign tasks to themselves only");
    }
    RETURN_IF_ERROR(api::ValidateRequestId(request->request_id()));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_TASK, "task.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          v1::Task checked = task;
          RETURN_IF_ERROR(fields::NormalizeValues(*checked.mutable_custom_fields(),
                                                  fields.definitions, /*creating=*/true, nullptr,
                                                  normalizers, "task.custom_fields"));
          ASSIGN_OR_RETURN(*response,
                           tasks_.CreateTask(caller.tenant, checked, caller.user,
                                             request->request_id(), call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* TasksService::GetTask(grpc::CallbackServerContext* context,
                                                const v1::GetTaskRequest* request,
                                                v1::Task* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kTaskPrefix, "name"));
    ASSIGN_OR_RETURN(*response, tasks_.GetTask(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TasksService::ListTasks(grpc::CallbackServerContext* context,
                                                  const v1::ListTasksRequest* request,
                                                  v1::ListTasksResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    // "me" and the time zone change what a filter means, so they are part of the fingerprint.
    const std::string fingerprint = api::QueryFingerprint(
        absl::StrCat("tasks\x1f", request->filter(), "\x1f", request->order_by(), "\x1f",
                     request->time_zone(), "\x1f", caller.user));
    const absl::StatusOr<std::string> order =
        fields_api_.CompileOrderBy(caller.tenant, common::v1::OBJECT_TYPE_TASK, TaskSortColumns(),
                                   request->order_by(), "t.id", call.deadline);
    if (!order.ok()) return order.status();
    const std::string& order_sql = *order;
    // Creation order pages by id (stable under inserts); other orders page by offset.
    const bool keyset = order_sql == "t.id";
    ASSIGN_OR_RETURN(api::ListPosition at,
                     api::DecodeListPosition(request->page_token(), fingerprint, keyset));
    ASSIGN_OR_RETURN(api::FilterSchema schema, TaskFilterSchema(caller.user, request->time_zone()));
    ASSIGN_OR_RETURN(api::SqlFilter filter,
                     fields_api_.CompileFilter(caller.tenant, common::v1::OBJECT_TYPE_TASK, schema,
                                               request->filter(), 4, call.deadline));
    ASSIGN_OR_RETURN(TaskPage page, tasks_.ListTasks(caller.tenant, at.after_id, at.offset,
                                                     page_size, filter, order_sql, call.deadline));
    if (page.more && !page.items.empty()) {
      response->set_next_page_token(api::NextListPageToken(
          keyset, page.items.back().name().substr(kTaskPrefix.size()), at, page_size, fingerprint));
    }
    for (auto& task : page.items) *response->add_tasks() = std::move(task);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TasksService::UpdateTask(grpc::CallbackServerContext* context,
                                                   const v1::UpdateTaskRequest* request,
                                                   v1::Task* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->task().name(), kTaskPrefix, "task.name"));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_TASK, "task.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          auto mutate = [&](const v1::Task& current)
              -> absl::StatusOr<std::pair<v1::Task, std::vector<std::string>>> {
            RETURN_IF_ERROR(CheckEtag(request->task().etag(), current.etag()));
            RETURN_IF_ERROR(CheckCanChange(caller, current));
            v1::Task next = current;
            ASSIGN_OR_RETURN(std::vector<std::string> changed,
                             ApplyTaskMask(request->task(), request->update_mask(), next));
            RETURN_IF_ERROR(NormalizeTask(next));
            RETURN_IF_ERROR(fields::NormalizeValues(
                *next.mutable_custom_fields(), fields.definitions, /*creating=*/false,
                &current.custom_fields(), normalizers, "task.custom_fields"));
            if (next.assignee() != current.assignee() &&
                !caller.CanChangeOwnedBy(next.assignee())) {
              return absl::PermissionDeniedError("reps assign tasks to themselves only");
            }
            return std::make_pair(std::move(next), std::move(changed));
          };
          ASSIGN_OR_RETURN(*response, tasks_.UpdateTask(caller.tenant, id, caller.user, mutate,
                                                        call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* TasksService::DeleteTask(grpc::CallbackServerContext* context,
                                                   const v1::DeleteTaskRequest* request,
                                                   google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kTaskPrefix, "name"));
    return tasks_.DeleteTask(
        caller.tenant, id, caller.user,
        [&](const v1::Task& current) -> absl::Status {
          RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
          return CheckCanChange(caller, current);
        },
        call.deadline);
  });
}

}  // namespace crm::tasks
