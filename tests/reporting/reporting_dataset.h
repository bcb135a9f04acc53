// A generated CRM history for the reporting tests (deterministic seed): reps, a pipeline, deals
// moving through stages across a year boundary and a DST change, activities, tasks and leads;
// the events the other services would have published, and the final state the expected figures
// are computed from, independently of the service's SQL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "crm/common/v1/events.pb.h"

namespace crm::reporting::testing {

struct Stage {
  std::string id, name, kind, category;
  int probability = 0;
};

struct StageEntry {
  int stage = 0;
  absl::Time enter;
  std::optional<absl::Time> leave;
};

struct Deal {
  std::string id, owner, currency, source;
  int64_t amount = 0;
  int stage = 0;
  absl::CivilDay expected_close;
  absl::Time create;
  std::optional<absl::Time> close;
  bool deleted = false;
  std::vector<StageEntry> entries;
  std::string Outcome(const std::vector<Stage>& stages) const;
};

struct Activity {
  std::string kind, author;
  absl::Time when;
};

struct Task {
  std::string assignee, status;
  absl::Time create;
  std::optional<absl::Time> due, complete;
  bool deleted = false;
};

struct Contact {
  std::string owner, source, lifecycle;
  absl::Time create;
  bool deleted = false;
};

struct Dataset {
  std::string tenant;
  std::string time_zone = "America/New_York";
  int fiscal_start = 4;
  std::vector<Stage> stages;
  std::vector<Deal> deals;
  std::vector<Activity> activities;
  std::vector<Task> tasks;
  std::vector<Contact> contacts;
  // In the order the streams deliver them, per source; some delivered twice.
  std::vector<crm::common::v1::Event> pipeline_events, contacts_events, tasks_events;
};

Dataset Generate(const std::string& tenant, unsigned seed);

}  // namespace crm::reporting::testing
