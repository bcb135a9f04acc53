#include "common/server/grpc_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace crm::server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

struct Families {
  prometheus::Family<prometheus::Counter>* started;
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* seconds;
};

const char* TypeName(ServerRpcInfo::Type type) {
  switch (type) {
    case ServerRpcInfo::Type::UNARY:
      return "unary";
    case ServerRpcInfo::Type::CLIENT_STREAMING:
      return "client_stream";
    case ServerRpcInfo::Type::SERVER_STREAMING:
      return "server_stream";
    case ServerRpcInfo::Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unknown";
}

// grpc-prometheus spells codes in upper camel case ("OK", "NotFound").
const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  const int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "Unknown";
}

// One method's metrics, made on its first call: an RPC then costs no Family::Add (each of which
// locks the family and hashes the labels), only the lookup of its method.
class MethodMetrics {
 public:
  MethodMetrics(const Families& families, prometheus::Labels labels)
      : families_(families),
        labels_(std::move(labels)),
        started_(&families.started->Add(labels_)),
        seconds_(&families.seconds->Add(labels_, Buckets())) {}

  void Started() { started_->Increment(); }

  void Handled(grpc::StatusCode code, double seconds) {
    seconds_->Observe(seconds);
    const int i = std::clamp(static_cast<int>(code), 0, 16);
    prometheus::Counter* counter = handled_[i].load(std::memory_order_acquire);
    if (counter == nullptr) {
      prometheus::Labels with_code = labels_;
      with_code["grpc_code"] = CodeName(code);
      counter = &families_.handled->Add(with_code);  // the same counter if two threads race
      handled_[i].store(counter, std::memory_order_release);
    }
    counter->Increment();
  }

 private:
  static const prometheus::Histogram::BucketBoundaries& Buckets() {
    static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    return *buckets;
  }

  const Families& families_;
  const prometheus::Labels labels_;
  prometheus::Counter* const started_;
  prometheus::Histogram* const seconds_;
  std::array<std::atomic<prometheus::Counter*>, 17> handled_{};
};

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(MethodMetrics& metrics) : metrics_(metrics) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      metrics_.Started();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.Handled(
          methods->GetSendStatus().error_code(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  MethodMetrics& metrics_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(prometheus::Registry& registry)
      : families_{&prometheus::BuildCounter()
                       .Name("grpc_server_started_total")
                       .Help("Total number of RPCs started on the server.")
                       .Register(registry),
                  &prometheus::BuildCounter()
                       .Name("grpc_server_handled_total")
                       .Help("Total number of RPCs completed on the server, regardless of "
                             "success or failure.")
                       .Register(registry),
                  &prometheus::BuildHistogram()
                       .Name("grpc_server_handling_seconds")
                       .Help("Histogram of response latency (seconds) of gRPC that had been "
                             "application-level handled by the server.")
                       .Register(registry)} {}

  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    // info->method() is "/package.Service/Method".
    const std::string full = info->method() ? info->method() : "";
    const char* type = TypeName(info->type());
    absl::MutexLock lock(&mu_);
    auto key = std::make_pair(full, type);
    if (!by_method_.contains(key) && by_method_.size() >= kMaxMethods) {
      key = {"/unknown/unknown", type};  // a client inventing method names gets one series
    }
    auto& metrics = by_method_[key];
    if (metrics == nullptr) {
      const std::string& name = key.first;
      const size_t slash = name.rfind('/');
      metrics = std::make_unique<MethodMetrics>(
          families_,
          prometheus::Labels{
              {"grpc_type", type},
              {"grpc_service", slash == std::string::npos ? name : name.substr(1, slash - 1)},
              {"grpc_method", slash == std::string::npos ? "" : name.substr(slash + 1)}});
    }
    return new MetricsInterceptor(*metrics);
  }

 private:
  Families families_;
  absl::Mutex mu_;
  // One entry per method served; names past kMaxMethods share one "unknown" entry, so that a
  // client calling made-up methods cannot grow this (or the exported series) without bound.
  static constexpr size_t kMaxMethods = 512;
  absl::flat_hash_map<std::pair<std::string, const char*>, std::unique_ptr<MethodMetrics>>
      by_method_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewGrpcMetricsInterceptor(
    prometheus::Registry& registry) {
  return std::make_unique<MetricsInterceptorFactory>(registry);
}

}  // namespace crm::server
