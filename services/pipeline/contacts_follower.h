// Follows the contacts service's events (through the shared exactly-once consumer) so deals keep
// pointing at live contacts: merges re-point deals and purchases to the winner, deletions flag
// the deals, and tenant settings (renewal lead time, currency) are copied locally.
#pragma once

#include "common/events/consumer.h"
#include "common/events/event_router.h"
#include "services/pipeline/pipeline_store.h"

namespace crm::pipeline {

// The handlers of the contacts events it follows, each applied inside the event's transaction.
events::EventRouter ContactsEvents(PipelineStore& store);

}  // namespace crm::pipeline
