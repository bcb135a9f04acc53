// Helpers for tests that call services over gRPC: tokens, call contexts, status details, and a
// child process running a real service binary (end-to-end tests).
#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::testing {

inline constexpr char kTestJwtSecret[] = "test-secret-0123456789abcdef-0123456789";
// The service identity's own secret (services following each other's event streams).
inline constexpr char kTestServiceSecret[] = "test-service-secret-0123456789abcdef";
// The flags a test passes to every service binary it starts: both secrets.
inline const std::string kJwtSecretFlag = std::string("--jwt_secret=") + kTestJwtSecret;
inline const std::string kServiceSecretFlag = std::string("--service_secret=") + kTestServiceSecret;

// An HS256 token signed with kTestJwtSecret (or `secret`), valid for an hour.
std::string MintToken(const std::string& tenant, const std::string& user,
                      const std::vector<std::string>& roles,
                      const std::string& secret = kTestJwtSecret);

// A token of the service identity, signed with kTestServiceSecret.
std::string MintServiceToken(const std::string& service = "test");

// A client context carrying `authorization: Bearer <token>` and a 10 s deadline.
std::unique_ptr<grpc::ClientContext> AuthedContext(const std::string& token);

// The channel to a local server.
std::shared_ptr<grpc::Channel> LocalChannel(int port);

// A service binary started as a child process; SIGKILLed on destruction unless stopped.
class ServiceProcess final {
 public:
  // Starts `binary` with `args` plus --ready_file, and waits until that file appears (the
  // binary writes it once serving) or the process exits. With `log_file`, the child's stdout and
  // stderr are appended there instead of the test's.
  static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(const std::string& binary,
                                                               std::vector<std::string> args,
                                                               absl::Duration timeout,
                                                               const std::string& log_file = "");
  ~ServiceProcess();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for the exit; returns the exit status as from waitpid.
  absl::StatusOr<int> StopWith(int signal, absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  std::string ready_file_;
};

// A blocking HTTP/1.0 GET on 127.0.0.1:port; returns the body.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace crm::testing
