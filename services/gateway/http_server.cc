#include "services/gateway/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <map>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace crm::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

const std::string kEmpty;
// What a closing connection still reads (and drops) so that the client, still sending the body
// we refused, reads our answer instead of a reset.
constexpr size_t kDrainBytes = 1 << 20;
constexpr absl::Duration kDrainTime = absl::Seconds(2);

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string Reason(int status) {
  const auto reason = http::obsolete_reason(http::int_to_status(status));
  return reason.empty() ? "Status" : std::string(reason.data(), reason.size());
}

}  // namespace

const std::string& HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return kEmpty;
}

class Connection;

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, HttpHandler h, HttpErrorHandler e, std::atomic<int>& c)
      : options(o), handler(std::move(h)), errors(std::move(e)), connections(c), acceptor(ioc) {}

  void Accept();

  const HttpServerOptions& options;
  const HttpHandler handler;
  const HttpErrorHandler errors;
  std::atomic<int>& connections;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::atomic<int> answering{0};  // requests handed to the application and not yet answered
  absl::Mutex mu;
  std::map<const Connection*, std::weak_ptr<Connection>> live ABSL_GUARDED_BY(mu);
};

namespace {

class Exchange;

}  // namespace

// One client connection. Everything it does runs on its strand.
class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    ++server_.connections;
  }
  ~Connection() {
    --server_.connections;
    absl::MutexLock lock(&server_.mu);
    server_.live.erase(this);
  }

  void Start() {
    beast::error_code ec;
    const tcp::endpoint remote = socket_.remote_endpoint(ec);
    remote_ = ec ? "" : remote.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
    WaitForRequest();
  }

  // From any thread.
  void Post(std::function<void(Connection&)> fn) {
    net::post(socket_.get_executor(),
              [self = shared_from_this(), fn = std::move(fn)] { fn(*self); });
  }

  // On the strand: the server stops.
  void Shutdown() {
    if (state_ == State::kAnswering) {
      close_after_answer_ = true;  // the answer still goes out
      return;
    }
    Close();
  }

  // Called by the exchange of request number `seq`, on the strand.
  void WriteReply(uint64_t seq, HttpResponse response);
  void WriteStreamHead(uint64_t seq, HttpResponse head, std::string heartbeat);
  void SendChunk(uint64_t seq, std::string chunk, std::function<void(bool)> done);
  void EndStream(uint64_t seq);
  void SetOnClosed(uint64_t seq, std::function<void()> callback);

 private:
  enum class State { kIdle, kReading, kAnswering, kStreaming, kClosing, kClosed };

  // A deadline for what the connection does now; on expiry the pending operation is cancelled
  // and its handler sees `timed_out_`.
  void Arm(absl::Duration timeout) {
    timed_out_ = false;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(Chrono(timeout));
    timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (ec || generation != self->timer_generation_) return;
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void WaitForRequest();
  void ReadHeader();
  void ReadBody();
  void Dispatch();
  void Fail(int status, const std::string& message);
  void Write(std::shared_ptr<std::string> bytes, bool close_after);
  void WriteNextChunk();
  void WatchForHangUp();
  void ScheduleHeartbeat();
  void CloseGracefully();
  void Drain(std::shared_ptr<std::array<char, 4096>> scratch, size_t drained);
  void Close();
  void FillRequest();

  HttpServer::Impl& server_;
  tcp::socket socket_;
  net::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  std::string remote_;
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  uint64_t seq_ = 0;  // the request being answered
  bool keep_alive_ = true;
  bool close_after_answer_ = false;
  // Streaming.
  std::deque<std::pair<std::string, std::function<void(bool)>>> chunks_;
  bool writing_ = false;
  bool stream_ended_ = false;
  std::function<void()> on_closed_;
  std::array<char, 256> hang_up_probe_;
  std::string heartbeat_;
  std::optional<net::steady_timer> heartbeat_timer_;
  bool wrote_since_heartbeat_ = false;
};

namespace {

class Exchange final : public HttpExchange {
 public:
  Exchange(std::shared_ptr<Connection> connection, HttpRequest request, uint64_t seq)
      : connection_(std::move(connection)), request_(std::move(request)), seq_(seq) {}

  const HttpRequest& request() const override { return request_; }

  void Reply(HttpResponse response) override {
    if (answered_.exchange(true)) return;
    connection_->Post([seq = seq_, response = std::move(response)](Connection& c) mutable {
      c.WriteReply(seq, std::move(response));
    });
  }
  void StartStream(HttpResponse head, std::string heartbeat) override {
    if (answered_.exchange(true)) return;
    connection_->Post([seq = seq_, head = std::move(head),
                       heartbeat = std::move(heartbeat)](Connection& c) mutable {
      c.WriteStreamHead(seq, std::move(head), std::move(heartbeat));
    });
  }
  void Send(std::string chunk, std::function<void(bool)> done) override {
    connection_->Post(
        [seq = seq_, chunk = std::move(chunk), done = std::move(done)](Connection& c) mutable {
          c.SendChunk(seq, std::move(chunk), std::move(done));
        });
  }
  void End() override {
    connection_->Post([seq = seq_](Connection& c) { c.EndStream(seq); });
  }
  void OnClosed(std::function<void()> callback) override {
    connection_->Post([seq = seq_, callback = std::move(callback)](Connection& c) mutable {
      c.SetOnClosed(seq, std::move(callback));
    });
  }

 private:
  std::shared_ptr<Connection> connection_;
  const HttpRequest request_;
  const uint64_t seq_;
  std::atomic<bool> answered_{false};
};

}  // namespace

void Connection::WaitForRequest() {
  state_ = State::kIdle;
  if (server_.stopping || close_after_answer_) return Close();
  if (buffer_.size() > 0) return ReadHeader();  // the next request is already here
  // Idle between requests: wait for the first bytes without a parser, under the idle timeout;
  // an idle connection that times out is closed without an answer. (A read, not a readiness
  // wait: asio does not look at a socket that became readable before a wait was queued.)
  Arm(server_.options.idle_timeout);
  socket_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            self->Disarm();
                            self->buffer_.commit(n);
                            if (ec || self->timed_out_) return self->Close();
                            self->ReadHeader();
                          });
}

void Connection::ReadHeader() {
  state_ = State::kReading;
  request_ = HttpRequest{};
  request_.remote_address = remote_;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
  parser_->body_limit(server_.options.max_body_bytes);
  Arm(server_.options.header_timeout);
  http::async_read_header(
      socket_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->Disarm();
        if (self->timed_out_) {
          return self->Fail(408, "the request's headers did not arrive in time");
        }
        if (ec == http::error::end_of_stream || ec == net::error::eof ||
            ec == net::error::connection_reset || ec == net::error::operation_aborted) {
          return self->Close();  // the client left
        }
        if (ec == http::error::header_limit) {
          return self->Fail(431, absl::StrCat("the request's headers are larger than ",
                                              self->server_.options.max_header_bytes, " bytes"));
        }
        if (ec == http::error::body_limit) {
          self->FillRequest();
          return self->Fail(413, absl::StrCat("the body is larger than ",
                                              self->server_.options.max_body_bytes, " bytes"));
        }
        if (ec) return self->Fail(400, "malformed HTTP request");
        self->FillRequest();
        self->ReadBody();
      });
}

void Connection::FillRequest() {
  const auto& header = parser_->get();
  request_.method = std::string(header.method_string());
  request_.target = std::string(header.target());
  const size_t question = request_.target.find('?');
  request_.path = request_.target.substr(0, question);
  request_.query = question == std::string::npos ? "" : request_.target.substr(question + 1);
  for (const auto& field : header) {
    request_.headers.emplace_back(absl::AsciiStrToLower(std::string(field.name_string())),
                                  std::string(field.value()));
  }
  request_.received = absl::Now();
  keep_alive_ = header.keep_alive();
}

void Connection::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  auto read = [self = shared_from_this()] {
    self->Arm(self->server_.options.body_timeout);
    http::async_read(
        self->socket_, self->buffer_, *self->parser_, [self](beast::error_code ec, size_t) {
          self->Disarm();
          if (self->timed_out_) {
            return self->Fail(408, "the request's body did not arrive in time");
          }
          if (ec == http::error::body_limit) {
            return self->Fail(413, absl::StrCat("the body is larger than ",
                                                self->server_.options.max_body_bytes, " bytes"));
          }
          if (ec == net::error::eof || ec == net::error::connection_reset ||
              ec == http::error::partial_message || ec == net::error::operation_aborted) {
            return self->Close();
          }
          if (ec) return self->Fail(400, "malformed HTTP request body");
          self->Dispatch();
        });
  };
  // A client that asked first (Expect: 100-continue, as curl does for larger bodies) is told to
  // go on.
  if (absl::EqualsIgnoreCase(request_.Header("expect"), "100-continue")) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    Arm(server_.options.write_timeout);
    net::async_write(socket_, net::buffer(kContinue),
                     [self = shared_from_this(), read](beast::error_code ec, size_t) {
                       self->Disarm();
                       if (ec) return self->Close();
                       read();
                     });
    return;
  }
  read();
}

void Connection::Dispatch() {
  request_.body = parser_->release().body();
  parser_.reset();
  state_ = State::kAnswering;
  ++server_.answering;
  server_.handler(std::make_shared<Exchange>(shared_from_this(), std::move(request_), ++seq_));
}

void Connection::Fail(int status, const std::string& message) {
  HttpResponse response = server_.errors(status, message, request_);
  keep_alive_ = false;
  if (state_ != State::kAnswering) {
    state_ = State::kAnswering;
    ++server_.answering;
  }
  WriteReply(seq_, std::move(response));
}

void Connection::WriteReply(uint64_t seq, HttpResponse response) {
  if (seq != seq_ || state_ != State::kAnswering) return;
  const bool close = !keep_alive_ || close_after_answer_ || server_.stopping;
  auto bytes = std::make_shared<std::string>(
      absl::StrCat("HTTP/1.1 ", response.status, " ", Reason(response.status), "\r\nContent-Type: ",
                   response.content_type, "\r\nContent-Length: ", response.body.size(), "\r\n"));
  for (const auto& [name, value] : response.headers) {
    absl::StrAppend(bytes.get(), name, ": ", value, "\r\n");
  }
  if (close) bytes->append("Connection: close\r\n");
  bytes->append("\r\n");
  // One write: a separate small write for the body would wait for the client's delayed ACK.
  if (request_.method != "HEAD") bytes->append(response.body);
  Write(std::move(bytes), close);
}

void Connection::Write(std::shared_ptr<std::string> bytes, bool close_after) {
  Arm(server_.options.write_timeout);
  net::async_write(socket_, net::buffer(*bytes),
                   [self = shared_from_this(), bytes, close_after](beast::error_code ec, size_t) {
                     self->Disarm();
                     --self->server_.answering;
                     self->state_ = State::kIdle;
                     if (ec || self->timed_out_) return self->Close();
                     if (close_after) return self->CloseGracefully();
                     self->WaitForRequest();
                   });
}

void Connection::WriteStreamHead(uint64_t seq, HttpResponse head, std::string heartbeat) {
  if (seq != seq_ || state_ != State::kAnswering) return;
  state_ = State::kStreaming;
  heartbeat_ = std::move(heartbeat);
  std::string bytes = absl::StrCat("HTTP/1.1 ", head.status, " ", Reason(head.status),
                                   "\r\nContent-Type: ", head.content_type,
                                   "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n");
  for (const auto& [name, value] : head.headers) absl::StrAppend(&bytes, name, ": ", value, "\r\n");
  bytes.append("\r\n");
  chunks_.emplace_front(std::move(bytes), nullptr);
  WriteNextChunk();
  WatchForHangUp();
  if (!heartbeat_.empty()) ScheduleHeartbeat();
}

// Writes the heartbeat when the stream wrote nothing since the last tick.
void Connection::ScheduleHeartbeat() {
  if (!heartbeat_timer_) heartbeat_timer_.emplace(socket_.get_executor());
  heartbeat_timer_->expires_after(Chrono(server_.options.stream_heartbeat));
  heartbeat_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || self->state_ != State::kStreaming || self->stream_ended_) return;
    if (!self->wrote_since_heartbeat_ && !self->writing_ && self->chunks_.empty()) {
      self->chunks_.emplace_back(
          absl::StrCat(absl::Hex(self->heartbeat_.size()), "\r\n", self->heartbeat_, "\r\n"),
          nullptr);
      self->WriteNextChunk();
    }
    self->wrote_since_heartbeat_ = false;
    self->ScheduleHeartbeat();
  });
}

void Connection::SendChunk(uint64_t seq, std::string chunk, std::function<void(bool)> done) {
  if (seq != seq_ || state_ != State::kStreaming || stream_ended_) {
    if (done) done(false);
    return;
  }
  if (chunk.empty()) {  // an empty chunk would end the stream
    if (done) done(true);
    return;
  }
  chunks_.emplace_back(absl::StrCat(absl::Hex(chunk.size()), "\r\n", chunk, "\r\n"),
                       std::move(done));
  wrote_since_heartbeat_ = true;
  WriteNextChunk();
}

void Connection::EndStream(uint64_t seq) {
  if (seq != seq_ || state_ != State::kStreaming || stream_ended_) return;
  stream_ended_ = true;
  on_closed_ = nullptr;
  chunks_.emplace_back("0\r\n\r\n", nullptr);
  WriteNextChunk();
}

void Connection::SetOnClosed(uint64_t seq, std::function<void()> callback) {
  if (seq != seq_) return;
  if (state_ == State::kClosed || state_ == State::kClosing) {
    if (callback) callback();
    return;
  }
  on_closed_ = std::move(callback);
}

void Connection::WriteNextChunk() {
  if (writing_ || chunks_.empty() || state_ != State::kStreaming) return;
  writing_ = true;
  Arm(server_.options.write_timeout);
  net::async_write(socket_, net::buffer(chunks_.front().first),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->Disarm();
                     self->writing_ = false;
                     if (self->chunks_.empty()) return;
                     auto done = std::move(self->chunks_.front().second);
                     self->chunks_.pop_front();
                     const bool ok = !ec && !self->timed_out_;
                     if (done) done(ok);
                     if (!ok) return self->Close();  // a client that stopped reading
                     if (self->stream_ended_ && self->chunks_.empty()) {
                       --self->server_.answering;
                       self->state_ = State::kIdle;
                       return self->CloseGracefully();
                     }
                     self->WriteNextChunk();
                   });
}

// A client of an event stream sends nothing more: the read ends when it hangs up. Stray bytes
// are dropped.
void Connection::WatchForHangUp() {
  socket_.async_read_some(net::buffer(hang_up_probe_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (self->state_ != State::kStreaming) return;
                            // A cancelled read is a write that timed out: the writer closes.
                            if (ec == net::error::operation_aborted) return;
                            if (ec) return self->Close();
                            self->WatchForHangUp();
                          });
}

void Connection::CloseGracefully() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosing;
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return Close();
  Arm(kDrainTime);
  Drain(std::make_shared<std::array<char, 4096>>(), 0);
}

void Connection::Drain(std::shared_ptr<std::array<char, 4096>> scratch, size_t drained) {
  socket_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch, drained](
                                                     beast::error_code ec, size_t n) {
    if (ec || self->timed_out_ || drained + n > kDrainBytes) {
      self->Disarm();
      return self->Close();
    }
    self->Drain(scratch, drained + n);
  });
}

void Connection::Close() {
  if (state_ == State::kClosed) return;
  if (state_ == State::kAnswering || state_ == State::kStreaming) --server_.answering;
  state_ = State::kClosed;
  Disarm();
  if (heartbeat_timer_) heartbeat_timer_->cancel();
  beast::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  for (auto& [bytes, done] : chunks_) {
    if (done) done(false);
  }
  chunks_.clear();
  if (auto callback = std::move(on_closed_)) {
    on_closed_ = nullptr;
    callback();
  }
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!acceptor.is_open() || stopping) return;
      // Out of file descriptors and the like: keep accepting, the condition may pass.
      return Accept();
    }
    if (stopping || connections >= options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      return Accept();
    }
    auto connection = std::make_shared<Connection>(*this, std::move(socket));
    {
      absl::MutexLock lock(&mu);
      live.emplace(connection.get(), connection);
    }
    connection->Post([](Connection& c) { c.Start(); });
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, HttpErrorHandler errors)
    : options_(std::move(options)),
      impl_(std::make_unique<Impl>(options_, std::move(handler), std::move(errors), connections_)) {
}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  const size_t colon = options_.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address is not host:port: ", options_.listen));
  }
  std::string host = options_.listen.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]"))
    host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", host));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.listen, ": ", ec.message()));
  }
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { impl_->ioc.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Stop(absl::Duration drain) {
  if (stopped_ || threads_.empty()) return;
  stopped_ = true;
  impl_->stopping = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::vector<std::shared_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&impl_->mu);
    for (auto& [key, weak] : impl_->live) {
      if (auto c = weak.lock()) connections.push_back(std::move(c));
    }
  }
  for (auto& c : connections) c->Post([](Connection& self) { self.Shutdown(); });
  connections.clear();
  const absl::Time deadline = absl::Now() + drain;
  while (impl_->answering > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  impl_->ioc.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace crm::gateway
