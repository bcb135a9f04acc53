#include "services/gateway/http_metrics.h"

#include "absl/strings/str_cat.h"

namespace crm::gateway {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("crm_http_requests_total")
                    .Help("HTTP requests by route template and status code")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("crm_http_request_duration_seconds")
                   .Help("HTTP request latency by route template")
                   .Register(registry)) {}

void HttpMetrics::Record(const std::string& route, int status, absl::Duration took) {
  prometheus::Counter* counter;
  prometheus::Histogram* latency;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<RouteSeries>& series = routes_[route];
    if (series == nullptr) {
      series = std::make_unique<RouteSeries>();
      series->latency = &latency_.Add({{"route", route}}, prometheus::Histogram::BucketBoundaries{
                                                              0.001, 0.0025, 0.005, 0.01, 0.025,
                                                              0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    prometheus::Counter*& by_status = series->requests[status];
    if (by_status == nullptr) {
      by_status = &requests_.Add({{"route", route}, {"code", absl::StrCat(status)}});
    }
    counter = by_status;
    latency = series->latency;
  }
  counter->Increment();
  latency->Observe(absl::ToDoubleSeconds(took));
}

}  // namespace crm::gateway
