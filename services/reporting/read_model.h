// The reporting read models, written only from the other services' events (through the shared
// exactly-once consumer). Every handler is idempotent and ignores stale versions, so an event
// applied twice counts once and a replay from position 0 rebuilds the same figures.
#pragma once

#include <string>
#include <vector>

#include "common/db/transaction.h"
#include "common/events/consumer.h"
#include "common/events/event_router.h"

namespace crm::reporting {

// The handlers of each source's events, by payload type (each marks the source's progress too).
events::EventRouter PipelineEvents();
events::EventRouter ContactsEvents();
events::EventRouter TasksEvents();

// Empties every read model and resets the consumers' checkpoints, so they replay from position 0
// (run with no reporting replica consuming). `consumers` are the checkpoint names.
absl::Status ResetReadModels(db::Pool& pool, const std::vector<std::string>& consumers);

}  // namespace crm::reporting
