#include "services/crmctl/task_commands.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/crmctl/rpc.h"
#include "services/crmctl/table.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::tasks::v1;
using google::protobuf::util::TimeUtil;

std::unique_ptr<grpc::ClientContext> Context(const TaskCommandOptions& options) {
  return CallContext(options.token, options.timeout_seconds);
}

int FailRpc(const grpc::Status& status) {
  return ctl::FailRpc(status, "is the tasks service running (make run)? see --tasks_addr");
}

std::string Local(const google::protobuf::Timestamp& ts, const std::string& zone) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  absl::TimeZone tz = absl::UTCTimeZone();
  if (!zone.empty()) (void)absl::LoadTimeZone(zone, &tz);
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(ts.seconds()), tz);
}

std::string Lower(const std::string& enum_name, size_t prefix) {
  return absl::AsciiStrToLower(enum_name.substr(std::min(prefix, enum_name.size())));
}

}  // namespace

bool ParseWhen(const std::string& text, absl::Time now, absl::Time* out) {
  if (text.size() >= 3 && text[0] == '+') {
    int64_t amount = 0;
    if (!absl::SimpleAtoi(text.substr(1, text.size() - 2), &amount) || amount < 0) return false;
    switch (text.back()) {
      case 'm':
        *out = now + absl::Minutes(amount);
        return true;
      case 'h':
        *out = now + absl::Hours(amount);
        return true;
      case 'd':
        *out = now + absl::Hours(24 * amount);
        return true;
      default:
        return false;
    }
  }
  std::string error;
  return absl::ParseTime(absl::RFC3339_full, text, out, &error);
}

int Tasks(v1::TasksService::Stub& stub, const std::vector<char*>& args,
          const TaskCommandOptions& options) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  if (verb == "create") {
    v1::CreateTaskRequest request;
    v1::Task* task = request.mutable_task();
    task->set_title(options.title);
    task->set_description(options.description);
    task->set_assignee(options.assignee);
    task->set_contact(options.contact);
    task->set_company(options.company);
    task->set_deal(options.deal);
    task->set_time_zone(options.time_zone);
    if (!options.priority.empty()) {
      v1::TaskPriority priority;
      if (!v1::TaskPriority_Parse("TASK_PRIORITY_" + absl::AsciiStrToUpper(options.priority),
                                  &priority)) {
        return Fail("--priority: low, normal, high or urgent");
      }
      task->set_priority(priority);
    }
    const absl::Time now = absl::Now();
    for (const auto& [text, field, name] :
         {std::make_tuple(options.due, task->mutable_due_time(), "--due"),
          std::make_tuple(options.remind, task->mutable_reminder_time(), "--remind")}) {
      if (text.empty()) continue;
      absl::Time when;
      if (!ParseWhen(text, now, &when)) {
        return Fail(absl::StrCat(name, ": '+30m', '+2h', '+3d' or an RFC 3339 time"));
      }
      *field = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(when));
    }
    if (options.due.empty()) task->clear_due_time();
    if (options.remind.empty()) task->clear_reminder_time();
    v1::Task created;
    grpc::Status status = stub.CreateTask(Context(options).get(), request, &created);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(created);
    std::cout << created.name() << "\n";
    return 0;
  }
  if (verb == "list") {
    v1::ListTasksRequest request;
    std::string filter = options.filter;
    if (options.mine) {
      filter = filter.empty() ? "assignee = me AND (status = OPEN OR status = IN_PROGRESS)"
                              : absl::StrCat("assignee = me AND (", filter, ")");
    }
    request.set_filter(filter);
    request.set_order_by("due_time");
    request.set_time_zone(options.time_zone);
    request.set_page_size(200);
    v1::ListTasksResponse response;
    grpc::Status status = stub.ListTasks(Context(options).get(), request, &response);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(response);
    Table table({"NAME", "TITLE", "WHO", "DUE", "REMIND", "PRIORITY", "STATUS", "ASSIGNEE"});
    for (const v1::Task& t : response.tasks()) {
      std::string who = t.contact_display_name();
      if (!t.company_display_name().empty()) {
        absl::StrAppend(&who, who.empty() ? "" : ", ", t.company_display_name());
      }
      table.AddRow({t.name(), t.title(), who, Local(t.due_time(), t.time_zone()),
                    Local(t.reminder_time(), t.time_zone()),
                    Lower(v1::TaskPriority_Name(t.priority()), 14),
                    Lower(v1::TaskStatus_Name(t.status()), 12), t.assignee()});
    }
    std::cout << table.Render(options.colour);
    return 0;
  }
  if (verb == "done") {
    if (args.size() < 4) return Fail("usage: crmctl tasks done tasks/ID");
    v1::UpdateTaskRequest request;
    request.mutable_task()->set_name(args[3]);
    request.mutable_task()->set_status(v1::TASK_STATUS_DONE);
    request.mutable_update_mask()->add_paths("status");
    v1::Task done;
    grpc::Status status = stub.UpdateTask(Context(options).get(), request, &done);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(done);
    std::cout << done.name() << " done\n";
    return 0;
  }
  return Fail("usage: crmctl tasks create|list|done");
}

int Notifications(v1::TasksService::Stub& stub, const std::vector<char*>& args,
                  const TaskCommandOptions& options) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  if (verb == "list") {
    v1::ListNotificationsRequest request;
    request.set_page_size(100);
    v1::ListNotificationsResponse response;
    grpc::Status status = stub.ListNotifications(Context(options).get(), request, &response);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(response);
    Table table({"NAME", "TITLE", "BODY", "FIRED", "LATE", "READ"});
    for (const v1::Notification& n : response.notifications()) {
      table.AddRow({n.name(), n.title(), n.body(), Local(n.create_time(), options.time_zone),
                    n.late() ? "late" : "", n.has_read_time() ? "read" : ""});
    }
    std::cout << table.Render(options.colour);
    return 0;
  }
  if (verb == "read") {
    if (args.size() < 4) return Fail("usage: crmctl notifications read notifications/ID");
    v1::MarkNotificationReadRequest request;
    request.set_name(args[3]);
    v1::Notification read;
    grpc::Status status = stub.MarkNotificationRead(Context(options).get(), request, &read);
    if (!status.ok()) return FailRpc(status);
    std::cout << read.name() << " read\n";
    return 0;
  }
  return Fail("usage: crmctl notifications list|read");
}

}  // namespace crm::ctl
