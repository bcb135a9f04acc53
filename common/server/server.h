// The gRPC server bootstrap every service uses: health checking, reflection, the grpc-prometheus
// interceptor, a /metrics endpoint, and graceful shutdown with a drain deadline.
#pragma once

#include <grpcpp/grpcpp.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::server {

struct ServerOptions {
  // Used in logs and as the health-check service name alias.
  std::string service_name;
  // host:port for gRPC; port 0 picks a free one (see grpc_port()).
  std::string grpc_address = "127.0.0.1:0";
  // host:port for Prometheus' /metrics; port 0 picks a free one.
  std::string metrics_address = "127.0.0.1:0";
  // After start, the bound ports are written here as "grpc_port=N\nmetrics_port=M\n" (written to a
  // temporary file and renamed, so a reader never sees half of it). Empty: not written.
  std::string ready_file;
  // On shutdown, in-flight RPCs get this long to finish before they are cancelled.
  absl::Duration drain_timeout = absl::Seconds(10);
  // Upper bound on threads serving synchronous RPCs.
  int max_threads = 64;
};

class Server final {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  // The registry the process's metrics go to (pool, outbox, ... register here too).
  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  // Services must outlive the server. Call before Start().
  void AddService(grpc::Service* service) { services_.push_back(service); }
  // Runs first on Shutdown(), e.g. to end long-lived streams so the drain need not wait for them.
  void OnShutdown(std::function<void()> callback) { on_shutdown_.push_back(std::move(callback)); }

  // Binds, starts serving, marks health SERVING and writes the ready file.
  absl::Status Start();
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }

  // Marks health NOT_SERVING, stops accepting, waits up to the drain deadline for in-flight RPCs.
  void Shutdown();

 private:
  ServerOptions options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<grpc::Service*> services_;
  std::vector<std::function<void()>> on_shutdown_;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  bool shut_down_ = false;
};

// Call first thing in main(), before any thread starts: blocks SIGTERM and SIGINT so that only
// WaitForTerminationSignal() receives them.
void BlockTerminationSignals();
// Call first thing in a server's main(), with BlockTerminationSignals(): Debian's Abseil is built
// without NDEBUG, which leaves absl::Mutex's deadlock detection on, so every lock of every request
// consults a process-wide graph of lock orders (GraphCycles::GetId showed in the profile of each
// GetContact). Servers run without it, as a release build of Abseil would; tests keep it.
void SkipMutexDeadlockDetection();
// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForTerminationSignal();

// Raises the soft limit on open files to the hard limit: every idle client connection holds a
// descriptor, and thousands of them are normal for a server that holds no thread per connection.
void RaiseOpenFileLimit();

// The caller's gRPC deadline as absl::Time; `fallback` from now when the caller set none.
absl::Time DeadlineOf(const grpc::ServerContextBase& context,
                      absl::Duration fallback = absl::Seconds(30));

}  // namespace crm::server
