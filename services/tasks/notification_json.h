// The JSON a webhook receives for a notification (proto3 JSON mapping inside an envelope):
//   {"type":"notification.created","tenant":"acme","notification":{"name":...}}
#pragma once

#include <string>

#include "crm/tasks/v1/notification.pb.h"

namespace crm::tasks {

std::string NotificationWebhookBody(const std::string& tenant, const v1::Notification& n);

}  // namespace crm::tasks
