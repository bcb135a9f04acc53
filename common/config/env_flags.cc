#include "common/config/env_flags.h"

#include <cstdlib>
#include <string>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace crm::config {

std::string EnvNameForFlag(const std::string& flag) {
  return absl::StrCat("CRM_", absl::AsciiStrToUpper(flag));
}

std::vector<char*> ParseFlagsWithEnv(int argc, char** argv, const char* usage) {
  absl::SetProgramUsageMessage(usage);
  // Environment values become leading "--flag=value" arguments, so the real command line, which
  // follows them, overrides them.
  std::vector<std::string> from_env;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    // Only our own flags: Abseil's (--flagfile, --undefok, ...) must not come from the environment.
    if (absl::StrContains(flag->Filename(), "absl/")) continue;
    const char* value = std::getenv(EnvNameForFlag(std::string(name)).c_str());
    if (value != nullptr) from_env.push_back(absl::StrCat("--", name, "=", value));
  }
  // Parsing copies the values; the positional arguments returned point into the real argv.
  std::vector<char*> args;
  args.push_back(argv[0]);
  for (std::string& s : from_env) args.push_back(s.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace crm::config
