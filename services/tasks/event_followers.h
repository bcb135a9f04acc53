// What the tasks service takes from other services' event streams (through the shared
// exactly-once consumer):
// - contacts: contact and company names shown on tasks ("call Anna Petrosyan, Acme"), and merges
//   re-pointing tasks to the surviving contact;
// - pipeline: a renewal opportunity becomes a follow-up task for the deal's owner, once.
#pragma once

#include <string>
#include <vector>

#include "common/events/consumer.h"
#include "common/events/event_router.h"
#include "services/tasks/task_store.h"

namespace crm::tasks {

events::EventRouter ContactsEvents(TaskStore& store);

struct RenewalTaskOptions {
  // The follow-up is due this long after the renewal appears (or on the contract's end date if
  // that is sooner), and its reminder fires then.
  absl::Duration follow_up_after = absl::Hours(72);
};
events::EventRouter PipelineEvents(TaskStore& store, RenewalTaskOptions options = {});

}  // namespace crm::tasks
