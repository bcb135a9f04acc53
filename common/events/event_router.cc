#include "common/events/event_router.h"

namespace crm::events {

std::vector<std::string> EventRouter::types() const {
  std::vector<std::string> types;
  for (const auto& [type, route] : *routes_) types.push_back(type);
  return types;
}

EventHandler EventRouter::handler() const {
  return [routes = routes_, after = after_](db::Transaction& tx,
                                            const crm::common::v1::Event& event) -> absl::Status {
    auto it = routes->find(event.event_type());
    if (it == routes->end()) return absl::OkStatus();  // not an event this consumer follows
    if (absl::Status status = it->second(tx, event); !status.ok()) return status;
    return after ? after(tx, event) : absl::OkStatus();
  };
}

}  // namespace crm::events
