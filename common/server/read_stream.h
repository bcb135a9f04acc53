// Serves a client-streaming RPC with the gRPC callback API: the RPC is a reactor, not a thread.
// Each message the client sends is handled on the executor (where it may write to the
// database), and the next one is read only once it is handled, so a fast client cannot queue
// unbounded work and a slow one holds nothing while it thinks.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>

#include "absl/status/status.h"
#include "common/api/errors.h"
#include "common/server/executor.h"

namespace crm::server {

template <typename Request, typename Response>
class ReadStream final : public grpc::ServerReadReactor<Request> {
 public:
  struct Handlers {
    // Each message, in order; an error ends the call with it.
    std::function<absl::Status(const Request&)> each;
    // After the client's last message: fills the response.
    std::function<absl::Status(Response*)> end;
  };

  static grpc::ServerReadReactor<Request>* Start(Executor& executor, Response* response,
                                                 Handlers handlers) {
    auto* stream = new ReadStream(executor, response, std::move(handlers));
    // The client learns at once that the call holds its slot (it may wait for the headers).
    stream->StartSendInitialMetadata();
    stream->StartRead(&stream->message_);
    return stream;
  }

  // A call refused before anything is read (no credentials, no permission).
  static grpc::ServerReadReactor<Request>* Refuse(const absl::Status& status) {
    return new Refused(api::ToGrpcStatus(status));
  }

 private:
  ReadStream(Executor& executor, Response* response, Handlers handlers)
      : executor_(executor), response_(response), handlers_(std::move(handlers)) {}

  class Refused final : public grpc::ServerReadReactor<Request> {
   public:
    explicit Refused(const grpc::Status& status) { this->Finish(status); }
    void OnDone() override { delete this; }
  };

  void OnReadDone(bool ok) override {
    if (cancelled_) return this->Finish(grpc::Status::CANCELLED);
    executor_.Post([this, ok] {
      if (cancelled_) return this->Finish(grpc::Status::CANCELLED);
      if (!ok) return this->Finish(api::ToGrpcStatus(handlers_.end(response_)));
      if (absl::Status handled = handlers_.each(message_); !handled.ok()) {
        return this->Finish(api::ToGrpcStatus(handled));
      }
      this->StartRead(&message_);
    });
  }

  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

  Executor& executor_;
  Response* const response_;
  Handlers handlers_;
  Request message_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace crm::server
