// An event-driven HTTP/1.1 server (Boost.Beast over Asio): a couple of threads serve every
// connection and none of them waits on a client or a backend, so a thousand clients that stall
// mid-request, or five thousand open event streams, hold memory but no thread.
//
// Each request is read under deadlines: a keep-alive connection may sit idle for `idle_timeout`;
// once a request's first byte arrives its headers must be complete within `header_timeout` and
// its body within `body_timeout`, or it is answered 408 and the connection closed. Oversized
// headers (431), bodies (413) and malformed requests (400) are answered by the server itself.
// Responses, whole or streamed in chunks, are written under `write_timeout`: a client that stops
// reading loses its connection.
//
// The application sees an HttpExchange per request and answers it from any thread, now or later
// (when a backend replies): Reply() once, or StartStream() + Send()... + End().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace crm::gateway {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int threads = 2;
  size_t max_header_bytes = 16384;  // request line and headers together (431 above)
  size_t max_body_bytes = 1 << 20;  // 413 above
  absl::Duration idle_timeout = absl::Seconds(30);
  absl::Duration header_timeout = absl::Seconds(5);
  absl::Duration body_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);
  int max_connections = 20000;  // more are closed at once
  // A stream that wrote nothing for this long writes its heartbeat (see StartStream).
  absl::Duration stream_heartbeat = absl::Seconds(15);
};

struct HttpRequest {
  std::string method;
  std::string target;  // as sent
  std::string path;    // the target before '?', still percent-encoded
  std::string query;   // after '?', raw
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;
  absl::Time received;  // when the headers were complete

  // The first header of that (lower-case) name, or "".
  const std::string& Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request being answered. Every method may be called from any thread.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const HttpRequest& request() const = 0;

  // The whole answer; call once (later calls are ignored).
  virtual void Reply(HttpResponse response) = 0;

  // A streamed answer (Transfer-Encoding: chunked): the head, then chunks one at a time, each
  // reported written (true) or lost (false: the client left or stopped reading), then End().
  // `heartbeat` (when not empty) is written whenever the stream was quiet for a while, so that
  // proxies keep it open.
  virtual void StartStream(HttpResponse head, std::string heartbeat) = 0;
  virtual void Send(std::string chunk, std::function<void(bool written)> done) = 0;
  virtual void End() = 0;
  // Runs once, on the connection's thread, if the client goes away (or the server stops) while
  // the stream is open; not after End().
  virtual void OnClosed(std::function<void()> callback) = 0;
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;
// Builds the body of an answer the server gives itself (400, 408, 413, 431, 503), and lets the
// application count and log it. `request` has what was read of the request, if anything.
using HttpErrorHandler =
    std::function<HttpResponse(int status, const std::string& message, const HttpRequest& request)>;

class HttpServer final {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorHandler errors);
  ~HttpServer();

  absl::Status Start();
  int port() const { return port_; }
  // Stops accepting, closes idle connections and open streams, waits up to `drain` for the
  // requests being answered, then stops the threads.
  void Stop(absl::Duration drain = absl::Seconds(5));

  int open_connections() const { return connections_; }

  struct Impl;

 private:
  const HttpServerOptions options_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<int> connections_{0};
  bool stopped_ = false;
};

}  // namespace crm::gateway
