// The gateway's per-request metrics:
//   crm_http_requests_total{route,code}
//   crm_http_request_duration_seconds{route} (histogram)
// Each series is made on its first request and kept, so a request costs one look-up, not a
// prometheus-cpp Family::Add (which builds a metric, hashes the labels and locks the family, then
// throws the new metric away when the series exists).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace crm::gateway {

class HttpMetrics final {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);

  // `route` is a route template or a fixed name ("/docs", "timeout"): a bounded set.
  void Record(const std::string& route, int status, absl::Duration took);

 private:
  struct RouteSeries {
    prometheus::Histogram* latency = nullptr;
    absl::flat_hash_map<int, prometheus::Counter*> requests;  // by status code
  };

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<RouteSeries>> routes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::gateway
