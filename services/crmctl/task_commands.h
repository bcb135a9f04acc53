// crmctl commands of the tasks service: tasks create/list/done, notifications list/read.
#pragma once

#include <string>
#include <vector>

#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm::ctl {

struct TaskCommandOptions {
  std::string token;
  bool json = false;
  bool colour = false;
  int timeout_seconds = 10;
  // tasks create
  std::string title, description, assignee, contact, company, deal, priority;
  // "+2h", "+30m", "+3d" from now, or RFC 3339 ("2026-12-01T09:00:00+04:00").
  std::string due, remind;
  // tasks list
  bool mine = false;
  std::string filter, time_zone;
};

int Tasks(crm::tasks::v1::TasksService::Stub& stub, const std::vector<char*>& args,
          const TaskCommandOptions& options);
int Notifications(crm::tasks::v1::TasksService::Stub& stub, const std::vector<char*>& args,
                  const TaskCommandOptions& options);

// Parses "+2h"-style offsets from `now` and RFC 3339 times; false when neither.
bool ParseWhen(const std::string& text, absl::Time now, absl::Time* out);

}  // namespace crm::ctl
