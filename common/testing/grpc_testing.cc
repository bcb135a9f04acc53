#include "common/testing/grpc_testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/auth/authenticator.h"
#include "common/ids/uuid.h"

namespace crm::testing {

std::string MintToken(const std::string& tenant, const std::string& user,
                      const std::vector<std::string>& roles, const std::string& secret) {
  auth::Claims claims;
  claims.subject = user;
  claims.tenant = tenant;
  claims.roles = roles;
  claims.expires = absl::Now() + absl::Hours(1);
  return auth::SignHs256(claims, secret);
}

std::string MintServiceToken(const std::string& service) {
  return auth::MintServiceToken(service, kTestServiceSecret);
}

std::unique_ptr<grpc::ClientContext> AuthedContext(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

std::shared_ptr<grpc::Channel> LocalChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(const std::string& binary,
                                                                      std::vector<std::string> args,
                                                                      absl::Duration timeout,
                                                                      const std::string& log_file) {
  auto process = std::make_unique<ServiceProcess>();
  process->ready_file_ = absl::StrCat("/tmp/crm-ready-", ids::NewUuidV7());
  args.insert(args.begin(), binary);
  args.push_back("--ready_file=" + process->ready_file_);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // A test that crashes must not leave its services running (holding ports and databases).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!log_file.empty()) {
      const int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
    }
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  process->pid_ = pid;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(process->ready_file_);
    std::string line;
    bool any_line = false;
    while (std::getline(in, line)) {
      any_line = true;
      std::vector<std::string> kv = absl::StrSplit(line, '=');
      if (kv.size() != 2) continue;
      if (kv[0] == "grpc_port") (void)absl::SimpleAtoi(kv[1], &process->grpc_port_);
      if (kv[0] == "metrics_port") (void)absl::SimpleAtoi(kv[1], &process->metrics_port_);
    }
    if (any_line) return process;  // the file is written whole (rename), so it is complete
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      process->pid_ = -1;
      return absl::InternalError(absl::StrCat(binary, " exited before serving, status ", status));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(binary, " did not become ready"));
}

absl::StatusOr<int> ServiceProcess::StopWith(int signal, absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, signal);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("process did not exit in time");
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (!ready_file_.empty()) unlink(ready_file_.c_str());
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write failed");
  }
  std::string response;
  char buffer[8192];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) response.append(buffer, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return absl::UnavailableError("malformed HTTP response");
  return response.substr(body + 4);
}

}  // namespace crm::testing
