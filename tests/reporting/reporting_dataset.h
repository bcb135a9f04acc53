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
  // Custom field values, derived from the amount, so each version of a deal carries its own:
  // tier (a select: "gold", "silver" or unset), arr (a number with two decimals, in hundredths)
  // and budget (money, sometimes in a currency other than the deal's).
  std::string Tier() const { return amount % 3 == 0 ? "" : amount % 3 == 1 ? "gold" : "silver"; }
  int64_t ArrHundredths() const { return amount * 7 + 3; }
  std::string BudgetCurrency() const { return amount % 2 == 0 ? currency : "GBP"; }
  int64_t BudgetMinor() const { return amount * 2; }
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
