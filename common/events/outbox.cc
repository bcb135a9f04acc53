#include "common/events/outbox.h"

#include <google/protobuf/any.pb.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <map>
#include <nlohmann/json.hpp>

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
      "ins AS (INSERT INTO ",
      schema_,
      ".outbox (position, event_id, tenant_id, aggregate_type, "
      "aggregate_id, event_type, actor, occurred_at, payload) "
      "SELECT base.p + (SELECT count(*) FROM ",
      schema_,
      ".outbox o "
      "WHERE o.position >= base.p AND o.position < base.p + 1048576), "
      "$1::uuid, $2, $3, $4, $5, $6, 'epoch'::timestamptz + $7::bigint * interval '1 microsecond', "
      "decode($8, 'hex') FROM base RETURNING position) "
      "SELECT position FROM ins");
  // The same position rule for many events: the transaction's count so far plus each event's
  // ordinal in the batch.
  insert_many_sql_ = absl::StrCat(
      "WITH base AS (SELECT pg_current_xact_id()::text::bigint << 20 AS p), "
      "done AS (SELECT count(*) AS k FROM ",
      schema_,
      ".outbox o, base "
      "WHERE o.position >= base.p AND o.position < base.p + 1048576) "
      "INSERT INTO ",
      schema_,
      ".outbox (position, event_id, tenant_id, aggregate_type, "
      "aggregate_id, event_type, actor, occurred_at, payload) "
      "SELECT base.p + done.k + e.ord - 1, e.event_id, $1, e.aggregate_type, e.aggregate_id, "
      "e.event_type, e.actor, 'epoch'::timestamptz + e.micros * interval '1 microsecond', "
      "decode(e.payload, 'hex') FROM base, done, ROWS FROM (jsonb_to_recordset($2::jsonb) AS "
      "(event_id uuid, aggregate_type text, aggregate_id text, event_type text, actor text, "
      "micros bigint, payload text)) WITH ORDINALITY AS e(event_id, aggregate_type, "
      "aggregate_id, event_type, actor, micros, payload, ord)");
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
  tx.Queue(insert_sql_,
           {ids::NewUuidV7(), std::string(tenant), event.aggregate_type, event.aggregate_id, type,
            event.actor, absl::StrCat(absl::ToUnixMicros(event.occurred)),
            absl::BytesToHexString(any.SerializeAsString())});
  prometheus::Counter* counter =
      events_total_ != nullptr ? &events_total_->Add({{"type", type}}) : nullptr;
  tx.OnCommit([counter, notifier = notifier_] {
    if (counter != nullptr) counter->Increment();
    if (notifier != nullptr) notifier->Announce();
  });
}

void Outbox::AppendMany(db::Transaction& tx, absl::string_view tenant,
                        const std::vector<EventDraft>& events) {
  if (events.empty()) return;
  nlohmann::json rows = nlohmann::json::array();
  std::map<std::string, int> per_type;
  for (const EventDraft& event : events) {
    google::protobuf::Any any;
    any.PackFrom(*event.payload);
    const std::string type = event.payload->GetDescriptor()->full_name();
    ++per_type[type];
    rows.push_back({{"event_id", ids::NewUuidV7()},
                    {"aggregate_type", event.aggregate_type},
                    {"aggregate_id", event.aggregate_id},
                    {"event_type", type},
                    {"actor", event.actor},
                    {"micros", absl::ToUnixMicros(event.occurred)},
                    {"payload", absl::BytesToHexString(any.SerializeAsString())}});
  }
  tx.Queue(insert_many_sql_, {std::string(tenant), rows.dump()});
  std::vector<std::pair<prometheus::Counter*, int>> counters;
  if (events_total_ != nullptr) {
    for (const auto& [type, n] : per_type) {
      counters.emplace_back(&events_total_->Add({{"type", type}}), n);
    }
  }
  tx.OnCommit([counters, notifier = notifier_] {
    for (const auto& [counter, n] : counters) counter->Increment(n);
    if (notifier != nullptr) notifier->Announce();
  });
}

}  // namespace crm::events
