// Process-wide logging: spdlog, one line per event, UTC timestamps, written to stderr.
//
// Lines read "2026-11-26T17:21:47.123Z info contacts: rpc started port=50051": an event name
// followed by key=value pairs, which both people and log shippers can read. Never log tokens,
// secrets or whole requests.
#pragma once

#include <spdlog/spdlog.h>

#include "absl/strings/string_view.h"

namespace crm::log {

// Sets up the default logger named after the service; level from "debug", "info", "warn", ...
void Init(absl::string_view service, absl::string_view level = "info");

}  // namespace crm::log
