// The HTTP side of the gateway (civetweb, which prometheus-cpp already brings: a bounded worker
// pool, keep-alive, request size limits, no extra dependency). Serves the API routes, server-sent
// events for streaming RPCs, /openapi.json, /docs (Swagger UI from the npm package), /healthz,
// /readyz and /metrics; enforces body, URL and header limits, CORS, per-token rate limits and
// back-pressure; writes one access-log line per request.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/gateway/backend.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/routes.h"

struct mg_context;
struct mg_connection;

namespace prometheus {
class Collectable;
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace crm::gateway {

struct GatewayOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int threads = 32;
  size_t max_body_bytes = 1 << 20;
  size_t max_url_bytes = 8192;
  // Allowed browser origins ("*" for any); empty: no CORS headers.
  std::vector<std::string> cors_origins;
  double rate_per_second = 100;
  int rate_burst = 200;
  // Open event streams at most (each holds a worker); the rest get 503.
  int max_streams = 8;
  // Calls being answered at most before new ones get 503 (back-pressure, not queues).
  int max_in_flight = 24;
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Minutes(5);
  // The swagger-ui-dist folder served at /docs ("" to not serve docs).
  std::string docs_dir;
};

class GatewayServer final {
 public:
  GatewayServer(const RouteTable& routes, Backends& backends,
                std::shared_ptr<prometheus::Registry> registry, GatewayOptions options);
  ~GatewayServer();

  absl::Status Start();
  void Stop();
  int port() const { return port_; }

 private:
  struct Exchange;
  static int Handle(mg_connection* conn, void* self);
  void Serve(Exchange& ex);
  void ServeApi(Exchange& ex);
  void ServeStream(Exchange& ex, const RouteMatch& match, const std::string& request,
                   const std::string& authorization, absl::Time deadline);
  void ServeDocs(Exchange& ex);
  void Reply(Exchange& ex, int status, const std::string& content_type, const std::string& body,
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  void ReplyError(Exchange& ex, int status, int grpc_code, const std::string& message,
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
  std::string CorsOrigin(const std::string& origin) const;

  const RouteTable& routes_;
  Backends& backends_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_metrics_;
  const GatewayOptions options_;
  RateLimiter limiter_;
  mg_context* context_ = nullptr;
  int port_ = 0;
  std::string openapi_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> streams_{0};
  std::atomic<bool> stopping_{false};
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Histogram>* latency_ = nullptr;
  prometheus::Counter* rate_limited_ = nullptr;
  prometheus::Gauge* in_flight_gauge_ = nullptr;
  prometheus::Gauge* streams_gauge_ = nullptr;
};

}  // namespace crm::gateway
