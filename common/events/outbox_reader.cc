#include "common/events/outbox_reader.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/transaction.h"

namespace crm::events {
namespace {

using crm::common::v1::Event;

// Columns after the horizon (column 0) of the read statement.
Event EventFromRow(const db::Result& r, int row) {
  Event e;
  e.set_position(r.Int(row, 1));
  e.set_event_id(r.String(row, 2));
  e.set_tenant(r.String(row, 3));
  e.set_aggregate_type(r.String(row, 4));
  e.set_aggregate_id(r.String(row, 5));
  e.set_event_type(r.String(row, 6));
  e.set_actor(r.String(row, 7));
  const int64_t micros = r.Int(row, 8);
  e.mutable_occurred_time()->set_seconds(micros / 1000000);
  e.mutable_occurred_time()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  e.mutable_payload()->ParseFromString(absl::HexStringToBytes(r.Text(row, 9)));
  return e;
}

}  // namespace

OutboxReader::OutboxReader(db::Pool& pool, std::string schema) : pool_(pool) {
  // Only positions below the oldest in-flight transaction: whatever commits later gets a greater
  // position. The horizon comes out of the same statement (same snapshot) as the events, so a
  // reader whose events are rare (a type filter) can move its cursor up to it instead of
  // rescanning everyone else's events on every poll.
  read_sql_ = absl::StrCat(
      "WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 AS horizon) "
      "SELECT h.horizon, e.* FROM h LEFT JOIN LATERAL (SELECT position, event_id, tenant_id, "
      "aggregate_type, aggregate_id, event_type, actor, "
      "(extract(epoch FROM occurred_at) * 1000000)::bigint, encode(payload, 'hex') FROM ",
      schema,
      ".outbox WHERE position > $1 AND position < h.horizon "
      "AND (cardinality($2::text[]) = 0 OR event_type = ANY($2::text[])) "
      "ORDER BY position LIMIT $3) e ON true");
  pruned_sql_ = absl::StrCat("SELECT pruned_through FROM ", schema, ".outbox_retention");
}

absl::StatusOr<OutboxBatch> OutboxReader::Read(int64_t after, const std::vector<std::string>& types,
                                               int limit, absl::Time deadline) const {
  ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::BeginSystem(pool_, deadline));
  const int read =
      tx.Queue(read_sql_, {absl::StrCat(after), db::ToArrayLiteral(types), absl::StrCat(limit)});
  const int pruned = tx.Queue(pruned_sql_);
  RETURN_IF_ERROR(tx.Commit());
  const db::Result& rows = tx.ResultOf(read);
  OutboxBatch batch;
  batch.pruned_through = tx.ResultOf(pruned).rows() > 0 ? tx.ResultOf(pruned).Int(0, 0) : 0;
  if (rows.rows() > 0) batch.horizon = rows.Int(0, 0);
  // One row with no event (position NULL) when nothing matched.
  const int delivered = rows.rows() > 0 && !rows.IsNull(0, 1) ? rows.rows() : 0;
  batch.events.reserve(delivered);
  for (int i = 0; i < delivered; ++i) batch.events.push_back(EventFromRow(rows, i));
  return batch;
}

}  // namespace crm::events
