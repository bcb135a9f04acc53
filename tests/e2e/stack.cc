#include "tests/e2e/stack.h"

#include <signal.h>

#include "absl/strings/str_cat.h"

namespace crm::testing {
namespace {

const std::string& kSecret = kJwtSecretFlag;
const std::string& kServiceSecret = kServiceSecretFlag;

std::string Address(const std::string& flag, ServiceProcess& process) {
  return absl::StrCat("--", flag, "=127.0.0.1:", process.grpc_port());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(StackOptions options) {
  std::unique_ptr<Stack> stack(new Stack());
  auto database = TestDatabase::Create();
  if (!database.ok()) return database.status();
  stack->database_ = std::make_unique<TestDatabase>(std::move(*database));
  const TestDatabase& db = *stack->database_;
  auto start = [&options](const std::string& binary, std::vector<std::string> args,
                          std::unique_ptr<ServiceProcess>& out) -> absl::Status {
    if (binary != CRM_GATEWAY_BIN) {
      args.insert(args.end(), options.service_flags.begin(), options.service_flags.end());
    }
    const std::string log_file =
        options.log_dir.empty()
            ? ""
            : absl::StrCat(options.log_dir, "/", binary.substr(binary.rfind('/') + 1), ".log");
    auto process = ServiceProcess::Start(binary, std::move(args), absl::Seconds(30), log_file);
    if (!process.ok()) return process.status();
    out = std::move(*process);
    return absl::OkStatus();
  };
  absl::Status s =
      start(CRM_CONTACTS_BIN, {"--db_url=" + db.ConnInfo("contacts"), kSecret, kServiceSecret},
            stack->contacts_);
  if (!s.ok()) return s;
  s = start(CRM_PIPELINE_BIN,
            {"--db_url=" + db.ConnInfo("pipeline"), kSecret, kServiceSecret,
             Address("contacts_address", *stack->contacts_), "--renewal_interval_seconds=1"},
            stack->pipeline_);
  if (!s.ok()) return s;
  s = start(CRM_TASKS_BIN,
            {"--db_url=" + db.ConnInfo("tasks"), kSecret, kServiceSecret,
             Address("contacts_address", *stack->contacts_),
             Address("pipeline_address", *stack->pipeline_), "--reminder_max_sleep_ms=200",
             "--webhook_allow_private_addresses", "--webhook_initial_backoff_ms=100"},
            stack->tasks_);
  if (!s.ok()) return s;
  s = start(
      CRM_REPORTING_BIN,
      {"--db_url=" + db.ConnInfo("reporting"), kSecret, kServiceSecret,
       Address("contacts_address", *stack->contacts_),
       Address("pipeline_address", *stack->pipeline_), Address("tasks_address", *stack->tasks_)},
      stack->reporting_);
  if (!s.ok()) return s;
  std::vector<std::string> gateway = {"--http_address=127.0.0.1:0",
                                      kSecret,
                                      Address("contacts_address", *stack->contacts_),
                                      Address("pipeline_address", *stack->pipeline_),
                                      Address("tasks_address", *stack->tasks_),
                                      Address("reporting_address", *stack->reporting_)};
  gateway.insert(gateway.end(), options.gateway_flags.begin(), options.gateway_flags.end());
  s = start(CRM_GATEWAY_BIN, gateway, stack->gateway_);
  if (!s.ok()) return s;
  return stack;
}

Stack::~Stack() {
  // The gateway first, so nothing new reaches the services while they stop.
  for (auto* process : {&gateway_, &reporting_, &tasks_, &pipeline_, &contacts_}) {
    if (*process) (void)(*process)->StopWith(SIGTERM, absl::Seconds(20));
  }
}

std::string Stack::url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", gateway_->grpc_port(), path);
}

}  // namespace crm::testing
