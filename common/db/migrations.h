// Applies a service's versioned SQL migrations at start-up.
//
// Files are named NNN_description.sql and compiled into the binary. Each runs in its own
// transaction and is recorded in `<schema>.schema_migrations`; a session-level advisory lock keyed
// by the schema name makes replicas that start together apply each file exactly once.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/base/embedded_file.h"

namespace crm::db {

// Applies the files of `migrations` not yet recorded in `schema`.schema_migrations, in version
// order (the number before the first '_'). Shared components number theirs from 10001.
// The schema must exist and be owned by the connecting role (created by deploy/local or the
// operator's bootstrap). Returns the number of migrations applied through `applied` if not null.
absl::Status Migrate(const std::string& conninfo, const std::string& schema,
                     const std::vector<EmbeddedFile>& migrations, int* applied = nullptr);

}  // namespace crm::db
