#include "services/gateway/gateway_server.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/log/log.h"
#include "common/server/process_metrics.h"
#include "services/gateway/media_reply.h"
#include "services/gateway/openapi.h"
#include "services/gateway/transcoder.h"

namespace crm::gateway {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request being answered: the exchange, and what the gateway learnt of it on the way.
struct GatewayServer::Call {
  std::shared_ptr<HttpExchange> exchange;
  std::string route = "other";  // bounded label: the route's template, or a fixed name
  std::string cors_origin;
  Headers headers;  // added to the answer (rate limits, ...)
  const HttpRequest& request() const { return exchange->request(); }
};

namespace {

const char* kDocsIndex = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>CRM API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>)";

constexpr size_t kMaxDocFileBytes = 16 << 20;

std::string ContentTypeOf(const std::string& path) {
  if (absl::EndsWith(path, ".js")) return "application/javascript";
  if (absl::EndsWith(path, ".css")) return "text/css";
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".png")) return "image/png";
  if (absl::EndsWith(path, ".map")) return "application/json";
  return "application/octet-stream";
}

std::string ErrorJson(int grpc_code, const std::string& message) {
  return StatusJson(grpc::Status(static_cast<grpc::StatusCode>(grpc_code), message));
}

// "Grpc-Timeout: 5S" (gRPC's own form: up to 8 digits and a unit) or "X-Timeout-Ms: 5000".
// Zero when neither is sent; INVALID_ARGUMENT naming the header for anything else.
absl::StatusOr<absl::Duration> RequestedTimeout(const HttpRequest& request) {
  const std::string& millis = request.Header("x-timeout-ms");
  const std::string& grpc_timeout = request.Header("grpc-timeout");
  int64_t value = 0;
  if (!millis.empty()) {
    if (millis.size() > 9 || !std::all_of(millis.begin(), millis.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(millis, &value) || value <= 0) {
      return absl::InvalidArgumentError("X-Timeout-Ms must be a positive number of milliseconds");
    }
    return absl::Milliseconds(value);
  }
  if (grpc_timeout.empty()) return absl::ZeroDuration();
  const std::string digits = grpc_timeout.substr(0, grpc_timeout.size() - 1);
  if (grpc_timeout.size() < 2 || digits.size() > 8 ||
      !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &value) || value <= 0) {
    return absl::InvalidArgumentError(
        "Grpc-Timeout must be 1 to 8 digits and a unit (H M S m u n)");
  }
  switch (grpc_timeout.back()) {
    case 'H':
      return absl::Hours(value);
    case 'M':
      return absl::Minutes(value);
    case 'S':
      return absl::Seconds(value);
    case 'm':
      return absl::Milliseconds(value);
    case 'u':
      return absl::Microseconds(value);
    case 'n':
      return absl::Nanoseconds(value);
    default:
      return absl::InvalidArgumentError(
          "Grpc-Timeout must be 1 to 8 digits and a unit (H M S m u n)");
  }
}

// The caller's token: from Authorization, or for a page the browser loads itself (a chart, RFC
// 6750 §2.3) from access_token. Only a well-formed JWS goes any further: it is the one value of
// the request that becomes gRPC metadata.
absl::StatusOr<std::string> TokenOf(const HttpRequest& request) {
  const std::string& header = request.Header("authorization");
  std::string token;
  if (!header.empty()) {
    absl::StatusOr<std::string_view> bearer = auth::BearerToken(header);
    if (!bearer.ok()) return bearer.status();
    token = std::string(*bearer);
  } else {
    token = QueryValue(request.query, "access_token");
  }
  if (token.empty()) {
    return absl::UnauthenticatedError("missing bearer token: send 'Authorization: Bearer <token>'");
  }
  if (token.size() > 8192 || !auth::LooksLikeJws(token)) {
    return absl::UnauthenticatedError("the bearer token is not a JWT (three base64url parts)");
  }
  return token;
}

// A verified caller's rate-limit key. Both parts come from the token, so the length prefix keeps
// ("a:b", "c") and ("a", "b:c") apart.
std::string CallerKey(const auth::Principal& caller) {
  return absl::StrCat(caller.tenant.size(), ":", caller.tenant, caller.user);
}

// One line per request, as JSON: whatever bytes a client put in its path, they cannot start a
// line of their own or break the reader's parser.
void LogAccess(const HttpRequest& request, const std::string& route, int status, size_t bytes,
               absl::Duration took) {
  if (!spdlog::should_log(spdlog::level::info)) return;  // not built only to be dropped
  const nlohmann::json line = {{"method", request.method},
                               {"path", request.path},
                               {"status", status},
                               {"bytes", bytes},
                               {"ms", absl::ToDoubleMilliseconds(took)},
                               {"route", route},
                               {"remote", request.remote_address}};
  spdlog::info("http {}",
               line.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace));
}

}  // namespace

GatewayServer::GatewayServer(const RouteTable& routes, Backends& backends,
                             const auth::Authenticator& authenticator,
                             std::shared_ptr<prometheus::Registry> registry, GatewayOptions options)
    : routes_(routes),
      backends_(backends),
      authenticator_(authenticator),
      registry_(std::move(registry)),
      process_metrics_(server::NewProcessMetrics()),
      options_(std::move(options)),
      limiter_(options_.rate_per_second, options_.rate_burst),
      refusals_(options_.refusal_rate_per_second, options_.refusal_burst),
      streams_(options_.streams),
      http_metrics_(*registry_) {
  openapi_ = OpenApiJson(routes_, "CRM API");
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("crm_http_rate_limited_total")
                       .Help("Requests refused with 429 by a rate limit")
                       .Register(*registry_)
                       .Add({});
  refused_tokens_ =
      &prometheus::BuildCounter()
           .Name("crm_http_invalid_tokens_total")
           .Help("Requests refused before any backend call for a missing or bad token")
           .Register(*registry_)
           .Add({});
  streams_gauge_ = &prometheus::BuildGauge()
                        .Name("crm_http_open_streams")
                        .Help("Server-sent event streams open")
                        .Register(*registry_)
                        .Add({});
  in_flight_gauge_ = &prometheus::BuildGauge()
                          .Name("crm_http_in_flight_requests")
                          .Help("HTTP requests being answered")
                          .Register(*registry_)
                          .Add({});
  connections_gauge_ = &prometheus::BuildGauge()
                            .Name("crm_http_open_connections")
                            .Help("Client connections open")
                            .Register(*registry_)
                            .Add({});
}

GatewayServer::~GatewayServer() { Stop(); }

absl::Status GatewayServer::Start() {
  if (!options_.docs_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(options_.docs_dir, ec)) {
      if (!entry.is_regular_file() || entry.file_size() > kMaxDocFileBytes) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      docs_[entry.path().filename().string()] = content.str();
    }
  }
  HttpServerOptions http = options_.http;
  http.stream_heartbeat = options_.stream_heartbeat;
  http_ = std::make_unique<HttpServer>(
      http, [this](std::shared_ptr<HttpExchange> exchange) { Handle(std::move(exchange)); },
      [this](int status, const std::string& message, const HttpRequest& request) {
        return ServerError(status, message, request);
      });
  return http_->Start();
}

void GatewayServer::Stop() {
  stopping_ = true;
  if (http_ != nullptr) http_->Stop();
}

void GatewayServer::Record(const std::string& route, int status, size_t bytes, absl::Duration took,
                           const HttpRequest& request) {
  http_metrics_.Record(route, status, took);
  LogAccess(request, route, status, bytes, took);
}

namespace {

// The answer to `call`, with the headers every answer carries.
void Answer(GatewayServer::Call& call, int status, const std::string& content_type,
            std::string body, Headers extra, const std::function<void(int, size_t)>& record) {
  HttpResponse response;
  response.status = status;
  response.content_type = content_type;
  response.headers = call.headers;
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!call.cors_origin.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Origin", call.cors_origin);
    response.headers.emplace_back("Vary", "Origin");
    response.headers.emplace_back(
        "Access-Control-Expose-Headers",
        "ETag, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After");
  }
  for (auto& header : extra) response.headers.push_back(std::move(header));
  response.body = std::move(body);
  record(status, response.body.size());
  call.exchange->Reply(std::move(response));
}

}  // namespace

std::function<void(int, size_t)> GatewayServer::RecordFor(const std::shared_ptr<Call>& call) {
  return [this, call](int status, size_t bytes) {
    Record(call->route, status, bytes, absl::Now() - call->request().received, call->request());
  };
}

HttpResponse GatewayServer::ServerError(int status, const std::string& message,
                                        const HttpRequest& request) {
  const int code = status == 408 ? 4 : status == 503 ? 14 : 3;
  HttpResponse response;
  response.status = status;
  response.body = ErrorJson(code, message);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  const absl::Time since = request.received == absl::Time() ? absl::Now() : request.received;
  Record(status == 408 ? "timeout" : "limit", status, response.body.size(), absl::Now() - since,
         request);
  return response;
}

std::string GatewayServer::CorsOrigin(const std::string& origin) const {
  if (origin.empty()) return "";
  for (const std::string& allowed : options_.cors_origins) {
    if (allowed == "*" || allowed == origin) return origin;
  }
  return "";
}

void GatewayServer::Handle(std::shared_ptr<HttpExchange> exchange) {
  auto call = std::make_shared<Call>();
  call->exchange = std::move(exchange);
  in_flight_gauge_->Increment();
  connections_gauge_->Set(http_->open_connections());
  const HttpRequest& request = call->request();
  auto answer = [&](int status, const std::string& type, std::string body, Headers extra = {}) {
    in_flight_gauge_->Decrement();
    Answer(*call, status, type, std::move(body), std::move(extra), RecordFor(call));
  };
  call->cors_origin = CorsOrigin(request.Header("origin"));
  if (request.path.size() + request.query.size() > options_.max_url_bytes) {
    call->route = "limit";
    return answer(
        414, "application/json",
        ErrorJson(3, absl::StrCat("the URL is longer than ", options_.max_url_bytes, " bytes")));
  }
  const std::string& path = request.path;
  if (request.method == "OPTIONS") {  // CORS preflight
    call->route = "preflight";
    std::vector<std::string> verbs = routes_.VerbsFor(path);
    verbs.push_back("OPTIONS");
    return answer(204, "text/plain", "",
                  {{"Access-Control-Allow-Methods", absl::StrJoin(verbs, ", ")},
                   {"Access-Control-Allow-Headers",
                    "Authorization, Content-Type, If-Match, Grpc-Timeout, X-Timeout-Ms"},
                   {"Access-Control-Max-Age", "600"}});
  }
  if (path == "/healthz") {
    call->route = "/healthz";
    return answer(200, "application/json", "{\"status\":\"ok\"}");
  }
  if (path == "/readyz") return ServeReady(call);
  if (path == "/metrics") return ServeMetrics(call);
  if (path == "/openapi.json") {
    call->route = "/openapi.json";
    return answer(200, "application/json", openapi_);
  }
  if (path == "/docs" || absl::StartsWith(path, "/docs/")) return ServeDocs(call);
  ServeApi(call);
}

void GatewayServer::ServeReady(const std::shared_ptr<Call>& call) {
  call->route = "/readyz";
  backends_.Health(absl::Seconds(2), [this, call](std::map<std::string, bool> serving) {
    bool all = true;
    std::string body = "{";
    for (const auto& [name, up] : serving) {
      all = all && up;
      absl::StrAppend(&body, body.size() > 1 ? "," : "", "\"", name, "\":\"",
                      up ? "serving" : "unavailable", "\"");
    }
    body += "}";
    in_flight_gauge_->Decrement();
    Answer(*call, all ? 200 : 503, "application/json", body, {}, RecordFor(call));
  });
}

void GatewayServer::ServeMetrics(const std::shared_ptr<Call>& call) {
  call->route = "/metrics";
  in_flight_gauge_->Decrement();  // not counted while serialising, so a scrape sees itself done
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  auto families = registry_->Collect();
  for (auto& family : process_metrics_->Collect()) families.push_back(std::move(family));
  serializer.Serialize(out, families);
  Answer(*call, 200, "text/plain; version=0.0.4", out.str(), {}, RecordFor(call));
}

void GatewayServer::ServeDocs(const std::shared_ptr<Call>& call) {
  call->route = "/docs";
  in_flight_gauge_->Decrement();
  const std::string& path = call->request().path;
  if (path == "/docs" || path == "/docs/" || path == "/docs/index.html") {
    return Answer(*call, 200, "text/html; charset=utf-8", kDocsIndex, {}, RecordFor(call));
  }
  const std::string file = path.substr(6);
  auto it = docs_.find(file);
  if (it == docs_.end()) {
    return Answer(*call, 404, "application/json", ErrorJson(5, "no such document"), {},
                  RecordFor(call));
  }
  Answer(*call, 200, ContentTypeOf(file), it->second, {{"Cache-Control", "max-age=3600"}},
         RecordFor(call));
}

void GatewayServer::ServeApi(const std::shared_ptr<Call>& call) {
  const HttpRequest& request = call->request();
  auto answer = [&](int status, std::string body, Headers extra = {}) {
    in_flight_gauge_->Decrement();
    Answer(*call, status, "application/json", std::move(body), std::move(extra), RecordFor(call));
  };
  // Who is calling, before anything else: a missing or bad token is refused here (and limited
  // per client address), so it never costs a backend call.
  absl::StatusOr<std::string> token = TokenOf(request);
  absl::StatusOr<auth::Principal> caller =
      token.ok() ? authenticator_.AuthenticateBearer("Bearer " + *token)
                 : absl::StatusOr<auth::Principal>(token.status());
  if (!caller.ok()) {
    call->route = "refused";
    refused_tokens_->Increment();
    const RateDecision refusal = refusals_.Take(request.remote_address, absl::Now());
    if (!refusal.allowed) {
      rate_limited_->Increment();
      return answer(429, ErrorJson(8, "too many refused requests from this address"),
                    {{"Retry-After", absl::StrCat(std::max(1, refusal.reset_seconds))}});
    }
    const bool unauthenticated = caller.status().code() == absl::StatusCode::kUnauthenticated;
    return answer(
        unauthenticated ? 401 : 403,
        ErrorJson(static_cast<int>(caller.status().code()), std::string(caller.status().message())),
        unauthenticated ? Headers{{"WWW-Authenticate", "Bearer error=\"invalid_token\""}}
                        : Headers{});
  }
  const RateDecision rate = limiter_.Take(CallerKey(*caller), absl::Now());
  call->headers = {{"RateLimit-Limit", absl::StrCat(rate.limit)},
                   {"RateLimit-Remaining", absl::StrCat(rate.remaining)},
                   {"RateLimit-Reset", absl::StrCat(rate.reset_seconds)}};
  if (!rate.allowed) {
    call->route = "rate_limited";
    rate_limited_->Increment();
    return answer(429, ErrorJson(8, "too many requests for this user; see RateLimit-Reset"),
                  {{"Retry-After", absl::StrCat(std::max(1, rate.reset_seconds))}});
  }
  absl::StatusOr<RouteMatch> match = routes_.Match(request.method, request.path);
  if (!match.ok()) {
    const bool wrong_verb = match.status().code() == absl::StatusCode::kFailedPrecondition;
    Headers extra;
    if (wrong_verb)
      extra.emplace_back("Allow", absl::StrJoin(routes_.VerbsFor(request.path), ", "));
    return answer(wrong_verb ? 405 : 404,
                  ErrorJson(wrong_verb ? 12 : 5, std::string(match.status().message())),
                  std::move(extra));
  }
  call->route = absl::StrCat(match->route->verb, " ", match->route->path.text());
  HttpInput input;
  input.query = request.query;
  input.body = request.body;
  input.if_match = request.Header("if-match");
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message = BuildRequest(*match, input);
  if (!message.ok()) return answer(400, ErrorJson(3, std::string(message.status().message())));
  absl::StatusOr<absl::Duration> requested = RequestedTimeout(request);
  if (!requested.ok()) return answer(400, ErrorJson(3, std::string(requested.status().message())));
  const std::string authorization = "Bearer " + *token;
  if (match->route->server_streaming) {
    in_flight_gauge_->Decrement();  // a stream is counted as one, not as a call in flight
    return ServeStream(call, *match, (*message)->SerializeAsString(), authorization, *caller);
  }
  // Back-pressure: answer 503 at once rather than queue behind a saturated backend.
  if (++in_flight_ > options_.max_in_flight) {
    --in_flight_;
    return answer(503, ErrorJson(14, "the gateway is at capacity; retry shortly"),
                  {{"Retry-After", "1"}});
  }
  const absl::Duration timeout =
      std::min(*requested == absl::ZeroDuration() ? options_.default_timeout : *requested,
               options_.max_timeout);
  CallOptions options;
  options.authorization = authorization;
  options.deadline = absl::Now() + timeout;
  const RouteMatch route = *match;
  backends_.Unary(match->route->backend, match->route->grpc_path, (*message)->SerializeAsString(),
                  options, [this, call, route](grpc::Status status, std::string reply) {
                    --in_flight_;
                    AnswerBackend(call, route, status, reply);
                  });
}

void GatewayServer::AnswerBackend(const std::shared_ptr<Call>& call, const RouteMatch& match,
                                  const grpc::Status& status, const std::string& reply) {
  auto answer = [&](int http_status, const std::string& type, std::string body,
                    Headers extra = {}) {
    in_flight_gauge_->Decrement();
    Answer(*call, http_status, type, std::move(body), std::move(extra), RecordFor(call));
  };
  if (!status.ok()) {
    return answer(HttpStatusOf(status.error_code()), "application/json", StatusJson(status));
  }
  std::unique_ptr<google::protobuf::Message> response(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(match.route->method->output_type())
          ->New());
  if (!response->ParseFromString(reply)) {
    return answer(502, "application/json", ErrorJson(13, "the backend sent an unreadable reply"));
  }
  // alt=media: a response declared a file, as the file itself (a chart a browser can show).
  if (QueryValue(call->request().query, "alt") == "media") {
    if (std::optional<MediaReply> file = AsMedia(*response)) {
      return answer(
          200, file->content_type, std::move(file->content),
          {{"Content-Disposition", absl::StrCat("inline; filename=\"", file->filename, "\"")},
           {"Content-Security-Policy", "sandbox"}});
    }
  }
  Headers extra;
  const std::string etag = EtagOf(*response);
  if (!etag.empty()) extra.emplace_back("ETag", absl::StrCat("\"", etag, "\""));
  answer(200, "application/json", ToJson(*response), std::move(extra));
}

namespace {

// One server-sent event stream: the HTTP side, the backend stream, and the slot it holds.
struct EventStream {
  std::shared_ptr<HttpExchange> exchange;
  std::shared_ptr<BackendStream> backend;
  std::optional<server::StreamLimiter::Lease> lease;
  const google::protobuf::Message* prototype = nullptr;
  std::atomic<bool> client_gone{false};
  std::atomic<size_t> bytes{0};
};

}  // namespace

void GatewayServer::ServeStream(const std::shared_ptr<Call>& call, const RouteMatch& match,
                                std::string request, const std::string& authorization,
                                const auth::Principal& caller) {
  absl::StatusOr<server::StreamLimiter::Lease> lease = streams_.Acquire(caller.tenant, caller.user);
  if (!lease.ok()) {
    call->route = "stream_limited";
    return Answer(*call, 429, "application/json",
                  ErrorJson(8, std::string(lease.status().message())), {{"Retry-After", "5"}},
                  RecordFor(call));
  }
  absl::StatusOr<absl::Duration> requested = RequestedTimeout(call->request());
  // Streams live until the client leaves (or asks for less); not bound by the unary timeout.
  CallOptions options;
  options.authorization = authorization;
  options.deadline =
      absl::Now() +
      (requested.ok() && *requested > absl::ZeroDuration() ? *requested : absl::Hours(24));
  auto stream = std::make_shared<EventStream>();
  stream->exchange = call->exchange;
  stream->lease.emplace(*std::move(lease));
  stream->prototype = google::protobuf::MessageFactory::generated_factory()->GetPrototype(
      match.route->method->output_type());
  streams_gauge_->Increment();

  HttpResponse head;
  head.content_type = "text/event-stream";
  head.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
  if (!call->cors_origin.empty()) {
    head.headers.emplace_back("Access-Control-Allow-Origin", call->cors_origin);
    head.headers.emplace_back("Vary", "Origin");
  }
  call->exchange->StartStream(std::move(head), ": ping\n\n");
  call->exchange->Send(": stream open\n\n", nullptr);

  StreamCallbacks callbacks;
  callbacks.on_message = [stream](std::string bytes) {
    std::unique_ptr<google::protobuf::Message> message(stream->prototype->New());
    std::string event = message->ParseFromString(bytes)
                            ? absl::StrCat("data: ", ToJson(*message), "\n\n")
                            : std::string("event: error\ndata: {}\n\n");
    stream->bytes += event.size();
    // The next message is read only once this one is written: a slow client slows its own
    // stream, and the gateway holds at most one message of it.
    stream->exchange->Send(std::move(event), [stream](bool written) {
      if (written) {
        stream->backend->Next();
      } else {
        stream->backend->Cancel();
      }
    });
  };
  callbacks.on_done = [this, call, stream](grpc::Status status) {
    if (!stream->client_gone && !status.ok() &&
        status.error_code() != grpc::StatusCode::CANCELLED) {
      std::string event = absl::StrCat("event: error\ndata: ", StatusJson(status), "\n\n");
      stream->bytes += event.size();
      stream->exchange->Send(std::move(event), nullptr);
    }
    stream->exchange->End();
    stream->lease.reset();
    streams_gauge_->Decrement();
    Record(call->route, 200, stream->bytes, absl::Now() - call->request().received,
           call->request());
  };
  stream->backend = backends_.Stream(match.route->backend, match.route->grpc_path,
                                     std::move(request), options, std::move(callbacks));
  call->exchange->OnClosed([stream] {
    stream->client_gone = true;
    stream->backend->Cancel();
  });
  stream->backend->Start();
}

}  // namespace crm::gateway
