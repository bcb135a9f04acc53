#include "common/events/event_stream_service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/transaction.h"

namespace crm::events {
namespace {

using crm::common::v1::Event;

constexpr int kMaxEventTypes = 100;

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

EventStreamService::EventStreamService(db::Pool& pool, std::string schema,
                                       const auth::Authenticator& authenticator,
                                       const Notifier& notifier, prometheus::Registry* registry,
                                       EventStreamOptions options)
    : pool_(pool),
      schema_(std::move(schema)),
      authenticator_(authenticator),
      notifier_(notifier),
      options_(options) {
  // Only positions below the oldest in-flight transaction: whatever commits later gets a greater
  // position, so a reader that moves its cursor past a position never skips an event.
  // The horizon comes out of the same statement (same snapshot) as the events, so a subscriber
  // whose events are rare (a quiet tenant, a type filter) can move its cursor up to it instead
  // of rescanning everyone else's events on every poll.
  read_sql_ = absl::StrCat(
      "WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 AS horizon) "
      "SELECT h.horizon, e.* FROM h LEFT JOIN LATERAL (SELECT position, event_id, tenant_id, "
      "aggregate_type, aggregate_id, event_type, actor, "
      "(extract(epoch FROM occurred_at) * 1000000)::bigint, encode(payload, 'hex') FROM ",
      schema_,
      ".outbox WHERE position > $1 AND position < h.horizon "
      "AND ($2 = '' OR tenant_id = $2) "
      "AND (cardinality($3::text[]) = 0 OR event_type = ANY($3::text[])) "
      "ORDER BY position LIMIT $4) e ON true");
  pruned_sql_ = absl::StrCat("SELECT pruned_through FROM ", schema_, ".outbox_retention");
  if (registry != nullptr) {
    subscribers_ = &prometheus::BuildGauge()
                        .Name("crm_event_stream_subscribers")
                        .Help("Open Subscribe streams")
                        .Register(*registry)
                        .Add({});
    sent_ = &prometheus::BuildCounter()
                 .Name("crm_event_stream_events_sent_total")
                 .Help("Events written to Subscribe streams")
                 .Register(*registry)
                 .Add({});
  }
}

grpc::Status EventStreamService::Subscribe(grpc::ServerContext* context,
                                           const crm::common::v1::SubscribeRequest* request,
                                           grpc::ServerWriter<Event>* writer) {
  if (subscribers_) subscribers_->Increment();
  absl::Status status = Stream(context, *request, writer);
  if (subscribers_) subscribers_->Decrement();
  return api::ToGrpcStatus(status);
}

absl::Status EventStreamService::Stream(grpc::ServerContext* context,
                                        const crm::common::v1::SubscribeRequest& request,
                                        grpc::ServerWriter<Event>* writer) {
  // Every tenant's events: only the service identity (its own credential) may read them.
  RETURN_IF_ERROR(authenticator_.AuthenticateService(*context).status());
  if (request.after_position() < 0) return api::InvalidField("after_position", "must be >= 0");
  if (request.event_types_size() > kMaxEventTypes) {
    return api::InvalidField("event_types", absl::StrCat("at most ", kMaxEventTypes));
  }
  const std::string types = db::ToArrayLiteral(
      std::vector<std::string>(request.event_types().begin(), request.event_types().end()));
  int64_t cursor = request.after_position();
  uint64_t generation = notifier_.generation();
  absl::Duration wait = options_.safety_poll;
  absl::Time last_read = absl::InfinitePast();
  while (!context->IsCancelled()) {
    if (shutting_down_) return absl::UnavailableError("server shutting down; resubscribe");
    const absl::Duration since = absl::Now() - last_read;
    if (since < options_.min_poll_interval) absl::SleepFor(options_.min_poll_interval - since);
    last_read = absl::Now();
    db::Result rows;
    int64_t pruned_through = 0;
    {
      // The connection goes back to the pool before we write to a possibly slow client.
      ASSIGN_OR_RETURN(db::Transaction tx,
                       db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(10)));
      const int read =
          tx.Queue(read_sql_, {absl::StrCat(cursor), "", types, absl::StrCat(options_.batch_size)});
      const int pruned = tx.Queue(pruned_sql_);
      RETURN_IF_ERROR(tx.Commit());
      rows = tx.ResultOf(read);
      pruned_through = tx.ResultOf(pruned).rows() > 0 ? tx.ResultOf(pruned).Int(0, 0) : 0;
    }
    // A subscriber that fell behind while connected is told, never silently skipped ahead.
    if (cursor < pruned_through) {
      return absl::OutOfRangeError(absl::StrCat(
          "events up to position ", pruned_through,
          " were pruned by retention; resubscribe from there after rebuilding your copy"));
    }
    // One row with no event (position NULL) when nothing matched.
    const int delivered = rows.rows() > 0 && !rows.IsNull(0, 1) ? rows.rows() : 0;
    for (int i = 0; i < delivered; ++i) {
      Event event = EventFromRow(rows, i);
      // Write blocks while the client's flow-control window is full: a slow client slows only
      // its own stream, and memory stays bounded by one batch.
      if (!writer->Write(event)) return absl::OkStatus();  // the client went away
      cursor = event.position();
      if (sent_) sent_->Increment();
    }
    if (delivered == options_.batch_size) continue;  // more is waiting
    // Everything below the horizon that we may see was in this (not full) batch: whatever
    // commits later gets a position at or above it, so skipping ahead loses nothing.
    if (rows.rows() > 0) cursor = std::max(cursor, rows.Int(0, 0) - 1);
    const uint64_t now_generation = notifier_.WaitForChange(generation, wait);
    if (now_generation != generation && delivered == 0) {
      // Woken but nothing deliverable: the event is held back by an earlier transaction still in
      // flight. Look again soon, backing off, rather than waiting for the next notification.
      wait = absl::Milliseconds(10);
    } else if (now_generation == generation && wait < options_.safety_poll) {
      wait = std::min(wait * 2, options_.safety_poll);
    } else {
      wait = options_.safety_poll;
    }
    generation = now_generation;
  }
  return absl::CancelledError("client cancelled");
}

}  // namespace crm::events
