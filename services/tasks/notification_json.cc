#include "services/tasks/notification_json.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

namespace crm::tasks {

std::string NotificationWebhookBody(const std::string& tenant, const v1::Notification& n) {
  std::string notification;
  (void)google::protobuf::util::MessageToJsonString(n, &notification);
  nlohmann::json body = {{"type", "notification.created"},
                         {"tenant", tenant},
                         {"notification", nlohmann::json::parse(notification)}};
  return body.dump();
}

}  // namespace crm::tasks
