// Typed dispatch of consumed events: one handler per payload message type, the event type taken
// from the message's descriptor ("crm.contacts.v1.ContactCreated"), never typed by hand, so a typo
// cannot silently drop events and the types a consumer subscribes to are the ones it handles:
//
//   events::EventRouter router;
//   router.On<cv1::ContactCreated>([](db::Transaction& tx, const Event& event,
//                                     const cv1::ContactCreated& created) { ... });
//   consumer options: .event_types = router.types(), handler: router.handler()
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/db/transaction.h"
#include "common/events/consumer.h"
#include "crm/common/v1/events.pb.h"

namespace crm::events {

class EventRouter final {
 public:
  template <typename Payload>
  using Handler = std::function<absl::Status(db::Transaction& tx, const crm::common::v1::Event&,
                                             const Payload& payload)>;

  // Routes events whose payload is a Payload to `handler`, with the payload unpacked; a payload
  // that does not unpack is INVALID_ARGUMENT (permanent: the event goes to the dead letters).
  template <typename Payload>
  EventRouter& On(Handler<Payload> handler) {
    (*routes_)[Payload::descriptor()->full_name()] =
        [handler = std::move(handler)](db::Transaction& tx,
                                       const crm::common::v1::Event& event) -> absl::Status {
      Payload payload;
      if (!event.payload().UnpackTo(&payload)) {
        return absl::InvalidArgumentError(
            absl::StrCat("the payload of ", event.event_type(), " does not unpack"));
      }
      return handler(tx, event, payload);
    };
    return *this;
  }

  // Runs in the same transaction after the handler of every routed event (a progress mark).
  EventRouter& After(EventHandler after) {
    after_ = std::move(after);
    return *this;
  }

  // The event types routed, to subscribe to exactly those.
  std::vector<std::string> types() const;

  // The consumer's handler: the route of the event's type; an event of another type is ignored.
  EventHandler handler() const;

 private:
  using Routes = std::map<std::string, EventHandler>;
  std::shared_ptr<Routes> routes_ = std::make_shared<Routes>();
  EventHandler after_;
};

}  // namespace crm::events
