// Command-line flags (Abseil) with an environment-variable fallback for each.
//
// Every flag `--foo_bar` may also be set as `CRM_FOO_BAR` in the environment, which suits
// containers and Kubernetes Secrets. The command line wins over the environment.
#pragma once

#include <string>
#include <vector>

namespace crm::config {

// Parses argv (exits on bad flags, like absl::ParseCommandLine) after applying environment values.
// Returns the positional arguments (argv[0] first). Call once per process.
std::vector<char*> ParseFlagsWithEnv(int argc, char** argv, const char* usage);

// The environment variable name for a flag: "db_url" -> "CRM_DB_URL".
std::string EnvNameForFlag(const std::string& flag);

}  // namespace crm::config
