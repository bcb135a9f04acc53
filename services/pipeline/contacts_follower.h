// Follows the contacts service's events (through the shared exactly-once consumer) so deals keep
// pointing at live contacts: merges re-point deals and purchases to the winner, deletions flag
// the deals, and tenant settings (renewal lead time, currency) are copied locally.
#pragma once

#include "common/events/consumer.h"
#include "services/pipeline/pipeline_store.h"

namespace crm::pipeline {

// The consumer's handler: applies one contacts event inside `tx` (the event's tenant).
events::EventHandler ContactsEventHandler(PipelineStore& store);

// The event types it needs from the contacts service.
std::vector<std::string> ContactsEventTypes();

}  // namespace crm::pipeline
