#include "common/events/outbox.h"

#include <google/protobuf/any.pb.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"

namespace crm::events {

std::string OutboxChannel(absl::string_view schema) { return absl::StrCat("crm_outbox_", schema); }

Outbox::Outbox(std::string schema, prometheus::Registry* registry, Notifier* notifier)
    : schema_(std::move(schema)), notifier_(notifier) {
  // The position is the writer's transaction id shifted left 20 bits plus the number of events
  // this transaction already wrote (its own rows are visible to it), so positions grow in the
  // order the stream may hand them out.
  insert_sql_ = absl::StrCat(
      "WITH base AS (SELECT pg_current_xact_id()::text::bigint << 20 AS p), "
      "ins AS (INSERT INTO ", schema_, ".outbox (position, event_id, tenant_id, aggregate_type, "
      "aggregate_id, event_type, actor, occurred_at, payload) "
      "SELECT base.p + (SELECT count(*) FROM ", schema_, ".outbox o "
      "WHERE o.position >= base.p AND o.position < base.p + 1048576), "
      "$1::uuid, $2, $3, $4, $5, $6, 'epoch'::timestamptz + $7::bigint * interval '1 microsecond', "
      "decode($8, 'hex') FROM base RETURNING position) "
      "SELECT position FROM ins");
  if (registry != nullptr) {
    events_total_ = &prometheus::BuildCounter()
                         .Name("crm_outbox_events_total")
                         .Help("Events committed to this service's outbox, by type")
                         .Register(*registry);
  }
}

void Outbox::Append(db::Transaction& tx, absl::string_view tenant, const EventDraft& event) {
  google::protobuf::Any any;
  any.PackFrom(*event.payload);
  const std::string type = event.payload->GetDescriptor()->full_name();
  tx.Queue(insert_sql_, {ids::NewUuidV7(), std::string(tenant), event.aggregate_type,
                         event.aggregate_id, type, event.actor,
                         absl::StrCat(absl::ToUnixMicros(event.occurred)),
                         absl::BytesToHexString(any.SerializeAsString())});
  prometheus::Counter* counter =
      events_total_ != nullptr ? &events_total_->Add({{"type", type}}) : nullptr;
  tx.OnCommit([counter, notifier = notifier_] {
    if (counter != nullptr) counter->Increment();
    if (notifier != nullptr) notifier->Announce();
  });
}

}  // namespace crm::events
