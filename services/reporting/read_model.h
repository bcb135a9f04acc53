// The reporting read models, written only from the other services' events (through the shared
// exactly-once consumer). Every handler is idempotent and ignores stale versions, so an event
// applied twice counts once and a replay from position 0 rebuilds the same figures.
#pragma once

#include <string>
#include <vector>

#include "common/db/transaction.h"
#include "common/events/consumer.h"

namespace crm::reporting {

// Handlers for each source's events, and the event types each needs.
events::EventHandler PipelineEventHandler();
std::vector<std::string> PipelineEventTypes();
events::EventHandler ContactsEventHandler();
std::vector<std::string> ContactsEventTypes();
events::EventHandler TasksEventHandler();
std::vector<std::string> TasksEventTypes();

// Empties every read model and resets the consumers' checkpoints, so they replay from position 0
// (run with no reporting replica consuming). `consumers` are the checkpoint names.
absl::Status ResetReadModels(db::Pool& pool, const std::vector<std::string>& consumers);

}  // namespace crm::reporting
