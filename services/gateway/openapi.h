// OpenAPI 3.0 for the gateway, generated from the same routes and message descriptors the
// gateway serves (so the document cannot drift from the API). Pure.
#pragma once

#include <string>

#include "services/gateway/routes.h"

namespace crm::gateway {

std::string OpenApiJson(const RouteTable& routes, const std::string& title);

}  // namespace crm::gateway
