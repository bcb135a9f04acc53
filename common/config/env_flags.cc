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
  // follows them, overrides them. The strings live for the life of the process.
  static std::vector<std::string>* storage = new std::vector<std::string>();
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StartsWith(flag->Filename(), "/usr/")) continue;  // library flags stay untouched
    const char* value = std::getenv(EnvNameForFlag(std::string(name)).c_str());
    if (value != nullptr) storage->push_back(absl::StrCat("--", name, "=", value));
  }
  std::vector<char*> args;
  args.push_back(argv[0]);
  for (std::string& s : *storage) args.push_back(s.data());
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace crm::config
