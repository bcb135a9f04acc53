// The producer side of domain events: Append() writes an event to `<schema>.outbox` inside the
// caller's transaction, so the event exists exactly when the change it describes commits.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/transaction.h"
#include "common/events/notifier.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace crm::events {

// What happened to which aggregate; the payload's full name is the event type.
struct EventDraft {
  std::string aggregate_type;  // "crm.contacts.v1.Contact"
  std::string aggregate_id;    // "contacts/0190..."
  std::string actor;           // user id, "" for system jobs
  absl::Time occurred = absl::Now();
  const google::protobuf::Message* payload = nullptr;
};

// The draft of `payload` about aggregate `name` (a resource of message type `Aggregate`, whose full
// name is the aggregate type, so it cannot be misspelled), by `actor` at `when`.
template <typename Aggregate>
EventDraft Draft(const std::string& name, const std::string& actor, absl::Time when,
                 const google::protobuf::Message& payload) {
  EventDraft draft;
  draft.aggregate_type = Aggregate::descriptor()->full_name();
  draft.aggregate_id = name;
  draft.actor = actor;
  draft.occurred = when;
  draft.payload = &payload;
  return draft;
}

class Outbox final {
 public:
  // `schema` is the service's own ("contacts"); metrics go to `registry` when not null; after
  // each commit with events, `notifier` (if not null) wakes the streams.
  Outbox(std::string schema, prometheus::Registry* registry, Notifier* notifier);

  // Queues the event in `tx` (no extra round trip); the streams are woken after the commit.
  // `tenant` must be the transaction's tenant.
  void Append(db::Transaction& tx, absl::string_view tenant, const EventDraft& event);
  // Several events in one statement (bulk writes such as imports), in the given order.
  void AppendMany(db::Transaction& tx, absl::string_view tenant,
                  const std::vector<EventDraft>& events);

  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
  std::string insert_sql_;
  std::string insert_many_sql_;
  prometheus::Family<prometheus::Counter>* events_total_ = nullptr;
  Notifier* notifier_;
};

// "crm_outbox_<schema>": one NOTIFY channel per service schema.
std::string OutboxChannel(absl::string_view schema);

}  // namespace crm::events
