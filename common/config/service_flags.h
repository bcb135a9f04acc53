// The flags every service shares (addresses, database, auth, logging), read into option structs.
// Each flag can also come from the environment: --db_url or CRM_DB_URL (see env_flags.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/db/pool.h"
#include "common/server/server.h"
#include "common/server/stream_limiter.h"

namespace crm::config {

server::ServerOptions ServerOptionsFromFlags(const std::string& service_name);
db::PoolOptions PoolOptionsFromFlags();
// Reads the JWT secret or public key (inline or "@file").
absl::StatusOr<auth::AuthOptions> AuthOptionsFromFlags();
std::string LogLevelFromFlags();
// Threads for the work of RPCs that may block (common/server/executor.h), and the bounds on
// open streams.
int WorkersFromFlags();
server::StreamLimits StreamLimitsFromFlags();
absl::Duration OutboxRetentionFromFlags();

}  // namespace crm::config
