#include "common/testing/http_receiver.h"

#include <civetweb.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace crm::testing {

std::unique_ptr<HttpReceiver> HttpReceiver::Start(std::vector<int> script, absl::Duration delay) {
  std::unique_ptr<HttpReceiver> receiver(new HttpReceiver());
  receiver->delay_ = delay;
  {
    absl::MutexLock lock(&receiver->mu_);
    receiver->script_ = std::move(script);
  }
  const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "8", nullptr};
  mg_callbacks callbacks{};
  receiver->context_ = mg_start(&callbacks, receiver.get(), options);
  if (receiver->context_ == nullptr) return nullptr;
  mg_set_request_handler(receiver->context_, "/", &HttpReceiver::Handle, receiver.get());
  mg_server_port ports[1];
  if (mg_get_server_ports(receiver->context_, 1, ports) < 1) return nullptr;
  receiver->port_ = ports[0].port;
  return receiver;
}

HttpReceiver::~HttpReceiver() {
  if (context_ != nullptr) mg_stop(context_);
}

std::string HttpReceiver::url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

int HttpReceiver::Handle(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<HttpReceiver*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  ReceivedRequest request;
  request.method = info->request_method;
  request.path = info->local_uri;
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers[absl::AsciiStrToLower(info->http_headers[i].name)] =
        info->http_headers[i].value;
  }
  {
    absl::MutexLock lock(&self->mu_);
    self->max_concurrent_ = std::max(self->max_concurrent_, ++self->concurrent_);
  }
  absl::SleepFor(self->delay_);
  char buffer[4096];
  int n = 0;
  while ((n = mg_read(conn, buffer, sizeof(buffer))) > 0) request.body.append(buffer, n);
  int status = 200;
  {
    absl::MutexLock lock(&self->mu_);
    if (!self->script_.empty()) {
      status = self->script_.front();
      self->script_.erase(self->script_.begin());
    }
    self->requests_.push_back(std::move(request));
    --self->concurrent_;
  }
  if (status == 200) {
    mg_send_http_ok(conn, "text/plain", 2);
    mg_write(conn, "ok", 2);
  } else {
    mg_send_http_error(conn, status, "%s", "scripted failure");
  }
  return status;
}

std::vector<ReceivedRequest> HttpReceiver::WaitFor(size_t count, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return requests_.size() >= count; };
  mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  return requests_;
}

int HttpReceiver::max_concurrent() {
  absl::MutexLock lock(&mu_);
  return max_concurrent_;
}

std::vector<ReceivedRequest> HttpReceiver::requests() {
  absl::MutexLock lock(&mu_);
  return requests_;
}

}  // namespace crm::testing
