// Reads a service's outbox in position order, never skipping an event.
//
// Positions are assigned at insert but become visible at commit, so position 12 can be seen
// before 11 commits. Each read therefore also returns the horizon: the lowest position any
// transaction still in flight could hold. Events below it are final; a reader whose batch was
// not full may move its cursor up to horizon - 1 without losing anything that commits later.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "crm/common/v1/event_stream_service.pb.h"

namespace crm::events {

struct OutboxBatch {
  std::vector<crm::common::v1::Event> events;  // in position order
  int64_t horizon = 0;
  int64_t pruned_through = 0;  // retention deleted everything up to here
  // Where a reader that received this batch (not full) continues from.
  int64_t NextCursor(int64_t cursor) const {
    return events.empty() ? std::max(cursor, horizon - 1)
                          : std::max(events.back().position(), cursor);
  }
};

class OutboxReader final {
 public:
  OutboxReader(db::Pool& pool, std::string schema);

  // Up to `limit` events after `after`, of `types` (all when empty), of every tenant (a system
  // transaction: the outbox policy lets it see them all).
  absl::StatusOr<OutboxBatch> Read(int64_t after, const std::vector<std::string>& types, int limit,
                                   absl::Time deadline) const;

 private:
  db::Pool& pool_;
  std::string read_sql_;
  std::string pruned_sql_;
};

}  // namespace crm::events
