// The gateway's HTTP side, on the event-driven server of http_server.h: the API routes (HTTP/JSON
// transcoded to gRPC, answered when the backend replies, with no thread waiting), server-sent
// events for streaming RPCs, /openapi.json, /docs (Swagger UI from the npm package), /healthz,
// /readyz and /metrics. Before anything reaches a backend the caller's token is verified (public
// keys only, in production), so that invalid tokens are refused here, rate limits apply to the
// verified (tenant, user), and no byte a client sends becomes gRPC metadata unchecked. Writes one
// JSON access-log line per request.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/server/stream_limiter.h"
#include "services/gateway/backend.h"
#include "services/gateway/http_metrics.h"
#include "services/gateway/http_server.h"
#include "services/gateway/rate_limiter.h"
#include "services/gateway/routes.h"

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
  HttpServerOptions http;
  size_t max_url_bytes = 8192;
  // Allowed browser origins ("*" for any); empty: no CORS headers.
  std::vector<std::string> cors_origins;
  // Per verified (tenant, user).
  double rate_per_second = 100;
  int rate_burst = 200;
  // Per client address, for requests without a valid token (they are refused with 401 until
  // this runs out, then with 429).
  double refusal_rate_per_second = 10;
  int refusal_burst = 50;
  server::StreamLimits streams;
  // Unary calls being answered at most before new ones get 503 (back-pressure, not queues).
  int max_in_flight = 1024;
  absl::Duration default_timeout = absl::Seconds(30);
  absl::Duration max_timeout = absl::Minutes(5);
  // Between two writes to an event stream, a comment line keeps proxies from closing it.
  absl::Duration stream_heartbeat = absl::Seconds(15);
  // The swagger-ui-dist folder served at /docs ("" to not serve docs).
  std::string docs_dir;
};

class GatewayServer final {
 public:
  GatewayServer(const RouteTable& routes, Backends& backends,
                const auth::Authenticator& authenticator,
                std::shared_ptr<prometheus::Registry> registry, GatewayOptions options);
  ~GatewayServer();

  absl::Status Start();
  void Stop();
  int port() const { return http_ != nullptr ? http_->port() : 0; }
  int open_connections() const { return http_ != nullptr ? http_->open_connections() : 0; }

  struct Call;

 private:
  void Handle(std::shared_ptr<HttpExchange> exchange);
  void ServeApi(const std::shared_ptr<Call>& call);
  void ServeStream(const std::shared_ptr<Call>& call, const RouteMatch& match, std::string request,
                   const std::string& authorization, const auth::Principal& caller);
  void ServeDocs(const std::shared_ptr<Call>& call);
  void ServeReady(const std::shared_ptr<Call>& call);
  void ServeMetrics(const std::shared_ptr<Call>& call);
  void AnswerBackend(const std::shared_ptr<Call>& call, const RouteMatch& match,
                     const grpc::Status& status, const std::string& reply);
  HttpResponse ServerError(int status, const std::string& message, const HttpRequest& request);
  std::string CorsOrigin(const std::string& origin) const;
  // Counts and logs the answer to `call` (status, body bytes).
  std::function<void(int, size_t)> RecordFor(const std::shared_ptr<Call>& call);
  void Record(const std::string& route, int status, size_t bytes, absl::Duration took,
              const HttpRequest& request);

  const RouteTable& routes_;
  Backends& backends_;
  const auth::Authenticator& authenticator_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_metrics_;
  const GatewayOptions options_;
  RateLimiter limiter_;
  RateLimiter refusals_;
  server::StreamLimiter streams_;
  HttpMetrics http_metrics_;
  std::unique_ptr<HttpServer> http_;
  std::string openapi_;
  std::map<std::string, std::string> docs_;  // file name -> content, read at start
  std::atomic<int> in_flight_{0};
  std::atomic<bool> stopping_{false};
  prometheus::Counter* rate_limited_ = nullptr;
  prometheus::Counter* refused_tokens_ = nullptr;
  prometheus::Gauge* in_flight_gauge_ = nullptr;
  prometheus::Gauge* streams_gauge_ = nullptr;
  prometheus::Gauge* connections_gauge_ = nullptr;
};

}  // namespace crm::gateway
