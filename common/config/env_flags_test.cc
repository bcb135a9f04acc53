#include "common/config/env_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

ABSL_FLAG(std::string, env_test_greeting, "default-greeting", "Test flag set from env or argv.");
ABSL_FLAG(int, env_test_count, 1, "Test flag set from env or argv.");
ABSL_FLAG(bool, env_test_verbose, false, "Test flag set from env or argv.");

namespace crm::config {
namespace {

using ::testing::ExitedWithCode;

constexpr char kGreetingEnv[] = "CRM_ENV_TEST_GREETING";
constexpr char kCountEnv[] = "CRM_ENV_TEST_COUNT";
constexpr char kVerboseEnv[] = "CRM_ENV_TEST_VERBOSE";

// ParseFlagsWithEnv may run only once per process (absl aborts on a second usage message), so
// every parse happens in a death-test child, which reports what it parsed on stderr and exits 0.
[[noreturn]] void ParseAndReport(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const std::vector<char*> positional =
      ParseFlagsWithEnv(static_cast<int>(argv.size()), argv.data(), "env_flags_test");
  std::vector<std::string> positional_text(positional.begin(), positional.end());
  std::fprintf(stderr, "greeting=<%s> count=<%d> verbose=<%d> positional=<%s>\n",
               absl::GetFlag(FLAGS_env_test_greeting).c_str(), absl::GetFlag(FLAGS_env_test_count),
               absl::GetFlag(FLAGS_env_test_verbose) ? 1 : 0,
               absl::StrJoin(positional_text, ",").c_str());
  std::fflush(stderr);
  std::exit(0);
}

class ParseFlagsWithEnvDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearEnv(); }
  void TearDown() override { ClearEnv(); }

  static void ClearEnv() {
    unsetenv(kGreetingEnv);
    unsetenv(kCountEnv);
    unsetenv(kVerboseEnv);
  }
};

TEST(EnvNameForFlagTest, PrefixesAndUpperCases) {
  EXPECT_EQ(EnvNameForFlag("db_url"), "CRM_DB_URL");
  EXPECT_EQ(EnvNameForFlag("port"), "CRM_PORT");
  EXPECT_EQ(EnvNameForFlag("jwt_hs256_secret"), "CRM_JWT_HS256_SECRET");
  EXPECT_EQ(EnvNameForFlag("env_test_greeting"), kGreetingEnv);
}

TEST_F(ParseFlagsWithEnvDeathTest, DefaultsWithoutEnvOrArgv) {
  EXPECT_EXIT(ParseAndReport({"prog"}), ExitedWithCode(0),
              "greeting=<default-greeting> count=<1> verbose=<0> positional=<prog>");
}

TEST_F(ParseFlagsWithEnvDeathTest, EnvUsedWhenArgvDoesNotSetFlag) {
  setenv(kGreetingEnv, "from-env", 1);
  setenv(kCountEnv, "7", 1);
  setenv(kVerboseEnv, "true", 1);
  EXPECT_EXIT(ParseAndReport({"prog"}), ExitedWithCode(0),
              "greeting=<from-env> count=<7> verbose=<1> positional=<prog>");
}

TEST_F(ParseFlagsWithEnvDeathTest, ArgvWinsOverEnv) {
  setenv(kGreetingEnv, "from-env", 1);
  setenv(kCountEnv, "7", 1);
  EXPECT_EXIT(ParseAndReport({"prog", "--env_test_greeting=from-argv"}), ExitedWithCode(0),
              "greeting=<from-argv> count=<7> verbose=<0>");
  EXPECT_EXIT(ParseAndReport({"prog", "--env_test_count", "9"}), ExitedWithCode(0),
              "greeting=<from-env> count=<9>");
}

TEST_F(ParseFlagsWithEnvDeathTest, EnvValueKeptVerbatim) {
  // One argument per flag, so spaces, '=' and leading dashes in the value are not re-split.
  setenv(kGreetingEnv, "postgres://u:p@h/db?a=b c --x", 1);
  EXPECT_EXIT(ParseAndReport({"prog"}), ExitedWithCode(0),
              "greeting=<postgres://u:p@h/db\\?a=b c --x>");
}

TEST_F(ParseFlagsWithEnvDeathTest, EmptyEnvValueSetsEmptyString) {
  setenv(kGreetingEnv, "", 1);
  EXPECT_EXIT(ParseAndReport({"prog"}), ExitedWithCode(0), "greeting=<> ");
}

TEST_F(ParseFlagsWithEnvDeathTest, PositionalArgumentsReturnedAfterProgramName) {
  setenv(kGreetingEnv, "from-env", 1);
  EXPECT_EXIT(ParseAndReport({"prog", "input.csv", "--env_test_count=3", "out.csv"}),
              ExitedWithCode(0),
              "greeting=<from-env> count=<3> .*positional=<prog,input.csv,out.csv>");
}

TEST_F(ParseFlagsWithEnvDeathTest, InvalidEnvValueFailsLikeInvalidFlag) {
  setenv(kCountEnv, "not-a-number", 1);
  EXPECT_EXIT(ParseAndReport({"prog"}), ExitedWithCode(1), "env_test_count");
}

}  // namespace
}  // namespace crm::config
