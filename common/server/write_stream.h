// Serves a server-streaming RPC with the gRPC callback API: the RPC is a reactor, not a thread.
//
// A producer, called step by step on the executor (where it may read the database), returns the
// messages to send next and what to do after them: produce again, wait, or finish. Messages go
// out one at a time; the next step runs only once they are written, so a slow client slows its
// own stream and memory stays bounded by one step. A stream that waits for news (an idle event
// subscription) holds no thread: it is a pending wake-up (wakeups.h) until its deadline passes or
// the outbox changes. A client that leaves cancels the stream at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/api/errors.h"
#include "common/server/executor.h"
#include "common/server/wakeups.h"

namespace crm::server {

template <typename Response>
class WriteStream final : public grpc::ServerWriteReactor<Response> {
 public:
  struct Step {
    std::vector<Response> messages;
    // Set: finish with this status once the messages are written.
    std::optional<absl::Status> finish;
    // Greater than zero: after the messages, wait up to this long (less when woken) before the
    // next step.
    absl::Duration wait = absl::ZeroDuration();

    // A step that only ends the stream.
    static Step Ending(absl::Status status) {
      Step step;
      step.finish = std::move(status);
      return step;
    }
  };
  // `signalled`: the wait before this step was ended by news (Wakeups::Signal), not by its
  // deadline.
  using Producer = std::function<Step(bool signalled)>;

  // Starts producing at once. With `headers_first`, the client gets the response headers before
  // any message, so it knows the stream is live (a watch with nothing to say yet).
  static grpc::ServerWriteReactor<Response>* Start(Executor& executor, Wakeups* wakeups,
                                                   Producer producer, bool headers_first = false) {
    auto* stream = new WriteStream(executor, wakeups, std::move(producer));
    if (headers_first) {
      stream->StartSendInitialMetadata();
    } else {
      stream->Post();
    }
    return stream;
  }

  // A stream refused before it began (bad request, no permission).
  static grpc::ServerWriteReactor<Response>* Refuse(const absl::Status& status) {
    return new Refused(api::ToGrpcStatus(status));
  }

 private:
  WriteStream(Executor& executor, Wakeups* wakeups, Producer producer)
      : executor_(executor), wakeups_(wakeups), producer_(std::move(producer)) {}

  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const grpc::Status& status) { this->Finish(status); }
    void OnDone() override { delete this; }
  };

  void Post() {
    executor_.Post([this] { RunStep(false); });
  }

  // On the executor.
  void RunStep(bool signalled) {
    if (cancelled_) return this->Finish(grpc::Status::CANCELLED);
    step_ = producer_(signalled);
    next_ = 0;
    WriteNext();
  }

  void WriteNext() {
    if (cancelled_) return this->Finish(grpc::Status::CANCELLED);
    if (next_ < step_.messages.size()) {
      this->StartWrite(&step_.messages[next_++]);
      return;
    }
    if (step_.finish.has_value()) return this->Finish(api::ToGrpcStatus(*step_.finish));
    if (step_.wait <= absl::ZeroDuration() || wakeups_ == nullptr) return Post();
    absl::MutexLock lock(&mu_);
    wait_ = wakeups_->WaitUntil(absl::Now() + step_.wait,
                                [this](bool signalled) { RunStep(signalled); });
    if (cancelled_) wait_->Fire();  // cancelled while we were arranging the wait
  }

  void OnSendInitialMetadataDone(bool ok) override {
    if (!ok) return this->Finish(grpc::Status::CANCELLED);
    Post();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return this->Finish(grpc::Status::CANCELLED);  // the client went away
    WriteNext();
  }

  void OnCancel() override {
    cancelled_ = true;
    absl::MutexLock lock(&mu_);
    if (wait_ != nullptr) wait_->Fire();
  }

  void OnDone() override { delete this; }

  Executor& executor_;
  Wakeups* const wakeups_;
  Producer producer_;
  Step step_;
  size_t next_ = 0;
  std::atomic<bool> cancelled_{false};
  absl::Mutex mu_;
  std::shared_ptr<Wakeups::Wait> wait_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::server
