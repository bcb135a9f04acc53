#include "common/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "common/server/grpc_metrics.h"
#include "common/server/process_metrics.h"

namespace crm::server {
namespace {

absl::Status WriteReadyFile(const std::string& path, int grpc_port, int metrics_port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "grpc_port=" << grpc_port << "\nmetrics_port=" << metrics_port << "\n";
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)), registry_(std::make_shared<prometheus::Registry>()) {}

Server::~Server() { Shutdown(); }

absl::Status Server::Start() {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(options_.metrics_address);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", options_.metrics_address, ": ", e.what()));
  }
  exposer_->RegisterCollectable(registry_);
  // The exposer keeps weak pointers: the server owns the collectables.
  process_metrics_ = NewProcessMetrics();
  exposer_->RegisterCollectable(process_metrics_);
  const std::vector<int> metrics_ports = exposer_->GetListeningPorts();
  metrics_port_ = metrics_ports.empty() ? 0 : metrics_ports.front();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.grpc_address, grpc::InsecureServerCredentials(), &grpc_port_);
  grpc::ResourceQuota quota(options_.service_name);
  quota.SetMaxThreads(options_.max_threads);
  builder.SetResourceQuota(quota);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewGrpcMetricsInterceptor(*registry_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot serve gRPC on ", options_.grpc_address));
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("serving grpc={} grpc_port={} metrics_port={}", options_.grpc_address, grpc_port_,
               metrics_port_);
  if (!options_.ready_file.empty()) {
    return WriteReadyFile(options_.ready_file, grpc_port_, metrics_port_);
  }
  return absl::OkStatus();
}

void Server::Shutdown() {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  // Load balancers and probes see NOT_SERVING first and stop sending new work.
  server_->GetHealthCheckService()->SetServingStatus(false);
  for (auto& callback : on_shutdown_) callback();
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(options_.drain_timeout);
  spdlog::info("draining deadline_seconds={}", absl::ToInt64Seconds(options_.drain_timeout));
  server_->Shutdown(deadline);
  server_->Wait();
  spdlog::info("stopped");
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void SkipMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  sigwait(&set, &signal_number);
  return signal_number;
}

absl::Time DeadlineOf(const grpc::ServerContextBase& context, absl::Duration fallback) {
  const auto deadline = context.deadline();
  const absl::Time fallback_deadline = absl::Now() + fallback;
  if (deadline == std::chrono::system_clock::time_point::max()) return fallback_deadline;
  return std::min(absl::FromChrono(deadline), fallback_deadline);
}

}  // namespace crm::server
