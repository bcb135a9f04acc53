#include "services/gateway/gateway_server.h"

#include <civetweb.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <sstream>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/log/log.h"
#include "common/server/process_metrics.h"
#include "crm/reporting/v1/reporting_service.pb.h"
#include "services/gateway/openapi.h"
#include "services/gateway/transcoder.h"

namespace crm::gateway {

// One request being answered: its connection, what is known of it, what was sent.
struct GatewayServer::Exchange {
  Exchange(mg_connection* c, const mg_request_info* i) : conn(c), info(i) {}
  mg_connection* conn;
  const mg_request_info* info;
  std::string method, path, query;
  std::string route = "other";  // bounded label: the route's template, or a fixed name
  std::string cors_origin;
  int status = 0;
  size_t bytes = 0;
  absl::Time start = absl::Now();
  std::string Header(const char* name) const {
    const char* value = mg_get_header(conn, name);
    return value == nullptr ? "" : value;
  }
};

namespace {

const char* kDocsIndex = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>CRM API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>)";

std::string ContentTypeOf(const std::string& path) {
  if (absl::EndsWith(path, ".js")) return "application/javascript";
  if (absl::EndsWith(path, ".css")) return "text/css";
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".png")) return "image/png";
  if (absl::EndsWith(path, ".map")) return "application/json";
  return "application/octet-stream";
}

// "Grpc-Timeout: 5S" (gRPC's own form) or "X-Timeout-Ms: 5000"; zero when absent or bad.
absl::Duration RequestedTimeout(const std::string& grpc_timeout, const std::string& millis) {
  int64_t value = 0;
  if (!millis.empty() && absl::SimpleAtoi(millis, &value) && value > 0) {
    return absl::Milliseconds(value);
  }
  if (grpc_timeout.size() >= 2 &&
      absl::SimpleAtoi(grpc_timeout.substr(0, grpc_timeout.size() - 1), &value) && value > 0) {
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
        break;
    }
  }
  return absl::ZeroDuration();
}

}  // namespace

GatewayServer::GatewayServer(const RouteTable& routes, Backends& backends,
                             std::shared_ptr<prometheus::Registry> registry, GatewayOptions options)
    : routes_(routes),
      backends_(backends),
      registry_(std::move(registry)),
      process_metrics_(server::NewProcessMetrics()),
      options_(std::move(options)),
      limiter_(options_.rate_per_second, options_.rate_burst) {
  openapi_ = OpenApiJson(routes_, "CRM API");
  requests_ = &prometheus::BuildCounter()
                   .Name("crm_http_requests_total")
                   .Help("HTTP requests by route template and status code")
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("crm_http_request_duration_seconds")
                  .Help("HTTP request latency by route template")
                  .Register(*registry_);
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("crm_http_rate_limited_total")
                       .Help("Requests refused with 429 by the per-token rate limit")
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
}

GatewayServer::~GatewayServer() { Stop(); }

absl::Status GatewayServer::Start() {
  const std::string threads = absl::StrCat(options_.threads);
  const char* mg_options[] = {"listening_ports", options_.listen.c_str(), "num_threads",
                              threads.c_str(), "enable_keep_alive", "yes", "keep_alive_timeout_ms",
                              "30000", "request_timeout_ms", "30000", "max_request_size", "16384",
                              "connection_queue", "64",
                              // CORS is ours (configured origins only), not civetweb's "*".
                              "access_control_allow_origin", "", nullptr};
  mg_init_library(0);
  mg_callbacks callbacks{};
  context_ = mg_start(&callbacks, this, mg_options);
  if (context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  mg_set_request_handler(context_, "/", &GatewayServer::Handle, this);
  mg_server_port ports[1];
  if (mg_get_server_ports(context_, 1, ports) < 1) return absl::InternalError("no port");
  port_ = ports[0].port;
  return absl::OkStatus();
}

void GatewayServer::Stop() {
  stopping_ = true;  // open event streams end at their next heartbeat
  if (context_ != nullptr) {
    mg_stop(context_);
    context_ = nullptr;
  }
}

int GatewayServer::Handle(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<GatewayServer*>(self_ptr);
  Exchange ex(conn, mg_get_request_info(conn));
  ex.method = ex.info->request_method;
  // civetweb decodes the path; re-escape '%' so template matching decodes exactly once.
  ex.path = absl::StrReplaceAll(ex.info->local_uri_raw != nullptr ? ex.info->local_uri_raw : "/",
                                {{"%", "%25"}});
  ex.query = ex.info->query_string != nullptr ? ex.info->query_string : "";
  self->in_flight_gauge_->Increment();
  try {
    self->Serve(ex);
  } catch (const std::exception& e) {  // never unwind into civetweb's C thread
    spdlog::error("http handler failed: {}", e.what());
    if (ex.status == 0) self->ReplyError(ex, 500, 13, "internal error");
  }
  self->in_flight_gauge_->Decrement();
  const absl::Duration took = absl::Now() - ex.start;
  self->requests_->Add({{"route", ex.route}, {"code", absl::StrCat(ex.status)}}).Increment();
  self->latency_
      ->Add({{"route", ex.route}},
            prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25, 0.5, 1, 2.5, 5, 10})
      .Observe(absl::ToDoubleSeconds(took));
  spdlog::info("http method={} path={} status={} bytes={} ms={:.2f} route={}", ex.method,
               ex.info->local_uri_raw != nullptr ? ex.info->local_uri_raw : "", ex.status, ex.bytes,
               absl::ToDoubleMilliseconds(took), ex.route);
  return ex.status;
}

std::string GatewayServer::CorsOrigin(const std::string& origin) const {
  if (origin.empty()) return "";
  for (const std::string& allowed : options_.cors_origins) {
    if (allowed == "*" || allowed == origin) return origin;
  }
  return "";
}

void GatewayServer::Reply(Exchange& ex, int status, const std::string& content_type,
                          const std::string& body,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", status, " ", mg_get_response_code_text(ex.conn, status),
                   "\r\nContent-Type: ", content_type, "\r\nContent-Length: ", body.size(),
                   "\r\nX-Content-Type-Options: nosniff\r\n");
  if (!ex.cors_origin.empty()) {
    absl::StrAppend(&head, "Access-Control-Allow-Origin: ", ex.cors_origin,
                    "\r\nVary: Origin\r\nAccess-Control-Expose-Headers: ETag, RateLimit-Limit, "
                    "RateLimit-Remaining, RateLimit-Reset\r\n");
  }
  for (const auto& [name, value] : headers) absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "\r\n";
  // One write: a separate small write for the body would wait for the client's delayed ACK.
  if (ex.method != "HEAD") head += body;
  mg_write(ex.conn, head.data(), head.size());
  ex.status = status;
  ex.bytes = body.size();
}

void GatewayServer::ReplyError(Exchange& ex, int status, int grpc_code, const std::string& message,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  Reply(ex, status, "application/json",
        StatusJson(grpc::Status(static_cast<grpc::StatusCode>(grpc_code), message)), headers);
}

void GatewayServer::Serve(Exchange& ex) {
  ex.cors_origin = CorsOrigin(ex.Header("Origin"));
  const size_t url_bytes = ex.path.size() + ex.query.size();
  if (url_bytes > options_.max_url_bytes) {
    ex.route = "limit";
    ReplyError(ex, 414, 3,
               absl::StrCat("the URL is longer than ", options_.max_url_bytes, " bytes"));
    return;
  }
  if (ex.method == "OPTIONS") {  // CORS preflight
    ex.route = "preflight";
    std::vector<std::string> verbs = routes_.VerbsFor(ex.path);
    verbs.push_back("OPTIONS");
    Reply(ex, 204, "text/plain", "",
          {{"Access-Control-Allow-Methods", absl::StrJoin(verbs, ", ")},
           {"Access-Control-Allow-Headers",
            "Authorization, Content-Type, If-Match, Grpc-Timeout, X-Timeout-Ms"},
           {"Access-Control-Max-Age", "600"}});
    return;
  }
  if (ex.path == "/healthz") {
    ex.route = "/healthz";
    Reply(ex, 200, "application/json", "{\"status\":\"ok\"}");
    return;
  }
  if (ex.path == "/readyz") {
    ex.route = "/readyz";
    bool all = true;
    std::string body = "{";
    for (const auto& [name, serving] : backends_.Health(absl::Seconds(2))) {
      all = all && serving;
      absl::StrAppend(&body, body.size() > 1 ? "," : "", "\"", name, "\":\"",
                      serving ? "serving" : "unavailable", "\"");
    }
    body += "}";
    Reply(ex, all ? 200 : 503, "application/json", body);
    return;
  }
  if (ex.path == "/metrics") {
    ex.route = "/metrics";
    prometheus::TextSerializer serializer;
    std::ostringstream out;
    auto families = registry_->Collect();
    for (auto& family : process_metrics_->Collect()) families.push_back(std::move(family));
    serializer.Serialize(out, families);
    Reply(ex, 200, "text/plain; version=0.0.4", out.str());
    return;
  }
  if (ex.path == "/openapi.json") {
    ex.route = "/openapi.json";
    Reply(ex, 200, "application/json", openapi_);
    return;
  }
  if (ex.path == "/docs" || absl::StartsWith(ex.path, "/docs/")) {
    ex.route = "/docs";
    ServeDocs(ex);
    return;
  }
  ServeApi(ex);
}

void GatewayServer::ServeDocs(Exchange& ex) {
  if (ex.path == "/docs" || ex.path == "/docs/" || ex.path == "/docs/index.html") {
    Reply(ex, 200, "text/html; charset=utf-8", kDocsIndex);
    return;
  }
  const std::string file = ex.path.substr(6);
  if (options_.docs_dir.empty() || absl::StrContains(file, "..") || absl::StrContains(file, "/")) {
    ReplyError(ex, 404, 5, "no such document");
    return;
  }
  std::ifstream in(options_.docs_dir + "/" + file, std::ios::binary);
  if (!in) {
    ReplyError(ex, 404, 5, "no such document");
    return;
  }
  std::ostringstream content;
  content << in.rdbuf();
  Reply(ex, 200, ContentTypeOf(file), content.str(), {{"Cache-Control", "max-age=3600"}});
}

void GatewayServer::ServeApi(Exchange& ex) {
  std::string authorization = ex.Header("Authorization");
  // RFC 6750 2.3: a page the browser loads itself (a chart) cannot send headers.
  if (authorization.empty() && !QueryValue(ex.query, "access_token").empty()) {
    authorization = "Bearer " + QueryValue(ex.query, "access_token");
  }
  // Per-caller token bucket: by token, else by address.
  // Keyed by a hash of the token (bounded key size), else by the client's address.
  const std::string caller = authorization.empty()
                                 ? ex.info->remote_addr
                                 : absl::StrCat("t", absl::Hash<std::string>()(authorization));
  const RateDecision rate = limiter_.Take(caller, absl::Now());
  std::vector<std::pair<std::string, std::string>> rate_headers = {
      {"RateLimit-Limit", absl::StrCat(rate.limit)},
      {"RateLimit-Remaining", absl::StrCat(rate.remaining)},
      {"RateLimit-Reset", absl::StrCat(rate.reset_seconds)}};
  if (!rate.allowed) {
    ex.route = "rate_limited";
    rate_limited_->Increment();
    rate_headers.emplace_back("Retry-After", absl::StrCat(std::max(1, rate.reset_seconds)));
    ReplyError(ex, 429, 8, "too many requests for this token; see RateLimit-Reset", rate_headers);
    return;
  }
  absl::StatusOr<RouteMatch> match = routes_.Match(ex.method, ex.path);
  if (!match.ok()) {
    const bool wrong_verb = match.status().code() == absl::StatusCode::kFailedPrecondition;
    std::vector<std::pair<std::string, std::string>> headers = rate_headers;
    if (wrong_verb) headers.emplace_back("Allow", absl::StrJoin(routes_.VerbsFor(ex.path), ", "));
    ReplyError(ex, wrong_verb ? 405 : 404, wrong_verb ? 12 : 5,
               std::string(match.status().message()), headers);
    return;
  }
  ex.route = absl::StrCat(match->route->verb, " ", match->route->path.text());

  // The body, bounded.
  const long long declared = ex.info->content_length;
  if (declared > static_cast<long long>(options_.max_body_bytes)) {
    ReplyError(ex, 413, 3,
               absl::StrCat("the body is larger than ", options_.max_body_bytes, " bytes"),
               rate_headers);
    return;
  }
  std::string body;
  char buffer[16384];
  int n = 0;
  while ((n = mg_read(ex.conn, buffer, sizeof(buffer))) > 0) {
    body.append(buffer, static_cast<size_t>(n));
    if (body.size() > options_.max_body_bytes) {
      ReplyError(ex, 413, 3,
                 absl::StrCat("the body is larger than ", options_.max_body_bytes, " bytes"),
                 rate_headers);
      return;
    }
  }
  HttpInput input;
  input.query = ex.query;
  input.body = std::move(body);
  input.if_match = ex.Header("If-Match");
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> request = BuildRequest(*match, input);
  if (!request.ok()) {
    ReplyError(ex, 400, 3, std::string(request.status().message()), rate_headers);
    return;
  }
  absl::Duration timeout = RequestedTimeout(ex.Header("Grpc-Timeout"), ex.Header("X-Timeout-Ms"));
  if (timeout == absl::ZeroDuration()) timeout = options_.default_timeout;
  timeout = std::min(timeout, options_.max_timeout);
  const absl::Time deadline = absl::Now() + timeout;

  if (match->route->server_streaming) {
    // Streams live until the client leaves (or asks for less); not bound by the unary timeout.
    const absl::Duration stream_timeout =
        RequestedTimeout(ex.Header("Grpc-Timeout"), ex.Header("X-Timeout-Ms"));
    ServeStream(
        ex, *match, (*request)->SerializeAsString(), authorization,
        absl::Now() + (stream_timeout > absl::ZeroDuration() ? stream_timeout : absl::Hours(24)));
    return;
  }
  // Back-pressure: answer 503 at once rather than queue behind a saturated backend.
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { --n; }
  } in_flight{in_flight_};
  if (++in_flight_ > options_.max_in_flight) {
    rate_headers.emplace_back("Retry-After", "1");
    ReplyError(ex, 503, 14, "the gateway is at capacity; retry shortly", rate_headers);
    return;
  }
  CallOptions call;
  call.authorization = authorization;
  call.deadline = deadline;
  std::string reply;
  const grpc::Status status = backends_.Unary(match->route->backend, match->route->grpc_path,
                                              (*request)->SerializeAsString(), call, &reply);
  if (!status.ok()) {
    Reply(ex, HttpStatusOf(status.error_code()), "application/json", StatusJson(status),
          rate_headers);
    return;
  }
  std::unique_ptr<google::protobuf::Message> response(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(match->route->method->output_type())
          ->New());
  if (!response->ParseFromString(reply)) {
    ReplyError(ex, 502, 13, "the backend sent an unreadable reply", rate_headers);
    return;
  }
  // alt=media: a file response as the file itself (a chart a browser can show).
  if (QueryValue(ex.query, "alt") == "media") {
    if (const auto* file = dynamic_cast<const crm::reporting::v1::ReportFile*>(response.get())) {
      // Only the types reports produce, and a filename without quotes or control characters.
      std::string filename = file->filename();
      filename.erase(std::remove_if(filename.begin(), filename.end(),
                                    [](char c) { return c == '"' || c < 0x20 || c == 0x7f; }),
                     filename.end());
      const bool known = file->content_type() == "image/svg+xml" ||
                         file->content_type() == "text/csv; charset=utf-8";
      rate_headers.emplace_back("Content-Disposition",
                                absl::StrCat("inline; filename=\"", filename, "\""));
      rate_headers.emplace_back("Content-Security-Policy", "sandbox");
      Reply(ex, 200, known ? file->content_type() : "application/octet-stream", file->content(),
            rate_headers);
      return;
    }
  }
  const std::string etag = EtagOf(*response);
  if (!etag.empty()) rate_headers.emplace_back("ETag", absl::StrCat("\"", etag, "\""));
  Reply(ex, 200, "application/json", ToJson(*response), rate_headers);
}

void GatewayServer::ServeStream(Exchange& ex, const RouteMatch& match, const std::string& request,
                                const std::string& authorization, absl::Time deadline) {
  if (++streams_ > options_.max_streams) {
    --streams_;
    ReplyError(ex, 503, 14, "too many open event streams; retry shortly", {{"Retry-After", "5"}});
    return;
  }
  streams_gauge_->Increment();
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\nX-Accel-Buffering: no\r\n";
  if (!ex.cors_origin.empty()) {
    absl::StrAppend(&head, "Access-Control-Allow-Origin: ", ex.cors_origin, "\r\nVary: Origin\r\n");
  }
  // Chunked, so the client sees where the stream ends and the connection can be kept.
  head += "\r\n";
  mg_write(ex.conn, head.data(), head.size());
  const std::string opened = ": stream open\n\n";
  mg_send_chunk(ex.conn, opened.data(), static_cast<unsigned int>(opened.size()));
  ex.status = 200;
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(
          match.route->method->output_type());
  bool client_gone = false;
  auto send = [&](const std::string& text) {
    if (client_gone) return false;
    client_gone = mg_send_chunk(ex.conn, text.data(), static_cast<unsigned int>(text.size())) <= 0;
    ex.bytes += text.size();
    return !client_gone;
  };
  CallOptions call;
  call.authorization = authorization;
  call.deadline = deadline;
  const grpc::Status status = backends_.Stream(
      match.route->backend, match.route->grpc_path, request, call,
      [&](const std::string& bytes) {
        std::unique_ptr<google::protobuf::Message> message(prototype->New());
        if (!message->ParseFromString(bytes)) return send("event: error\ndata: {}\n\n");
        return send(absl::StrCat("data: ", ToJson(*message), "\n\n"));
      },
      // A write to a closed connection fails: the client left. Shutdown ends streams too.
      [&] { return !stopping_ && send(": ping\n\n"); });
  if (!client_gone && !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    send(absl::StrCat("event: error\ndata: ", StatusJson(status), "\n\n"));
  }
  if (!client_gone) mg_send_chunk(ex.conn, "", 0);  // the end of the stream
  streams_gauge_->Decrement();
  --streams_;
}

}  // namespace crm::gateway
