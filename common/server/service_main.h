// What every service's main() does, in one place: the shared runtime (service_runtime.h) from
// flags, serving until SIGTERM, then an orderly shutdown. A service's main() only turns its own
// flags into the options of its wiring function (services/<name>/<name>_wiring.h).
#pragma once

#include <string>
#include <vector>

#include "common/base/embedded_file.h"
#include "common/server/service_runtime.h"

namespace crm::server {

// Call after flags are parsed and logging is set up. Returns the process exit code.
int RunService(const std::string& schema, std::vector<EmbeddedFile> migrations,
               const WireService& wire);

}  // namespace crm::server
