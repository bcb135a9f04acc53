#include "services/gateway/backend.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace crm::gateway {
namespace {

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

void Prepare(grpc::ClientContext& context, const CallOptions& options) {
  if (!options.authorization.empty()) context.AddMetadata("authorization", options.authorization);
  context.set_deadline(absl::ToChronoTime(options.deadline));
}

grpc::Status NoBackend(const std::string& backend) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("no backend ", backend));
}

// One unary call: owns what gRPC reads and writes until the reply.
struct UnaryCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

// A server stream read through a bidirectional reactor (the generic stub's only streaming form):
// one request and a half-close, then reads one at a time. A hold keeps OnDone from running while
// a message is delivered and Next() may still start a read.
class StreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                         public BackendStream {
 public:
  StreamCall(grpc::GenericStub& stub, std::string grpc_path, const std::string& request,
             const CallOptions& options, StreamCallbacks callbacks)
      : stub_(stub), grpc_path_(std::move(grpc_path)), callbacks_(std::move(callbacks)) {
    Prepare(context_, options);
    request_ = ToBuffer(request);
  }

  void Start() override {
    self_ = std::static_pointer_cast<StreamCall>(shared_from_this());
    stub_.PrepareBidiStreamingCall(&context_, grpc_path_, grpc::StubOptions(), this);
    AddHold();
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&message_);
    StartCall();
  }

  void Next() override {
    {
      absl::MutexLock lock(&mu_);
      if (state_ != State::kDelivered) return;
      state_ = State::kReading;
    }
    StartRead(&message_);
  }

  void Cancel() override {
    context_.TryCancel();
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      if (state_ == State::kDelivered) {
        state_ = State::kFinished;
        release = true;
      }
    }
    if (release) RemoveHold();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        absl::MutexLock lock(&mu_);
        state_ = State::kFinished;
      }
      RemoveHold();
      return;
    }
    std::string bytes = FromBuffer(message_);
    {
      absl::MutexLock lock(&mu_);
      if (state_ == State::kFinished) return;
      state_ = State::kDelivered;
    }
    callbacks_.on_message(std::move(bytes));
  }

  void OnDone(const grpc::Status& status) override {
    callbacks_.on_done(status);
    callbacks_ = {};
    self_.reset();  // may delete this
  }

 private:
  enum class State { kReading, kDelivered, kFinished };

  grpc::GenericStub& stub_;
  const std::string grpc_path_;
  StreamCallbacks callbacks_;
  std::shared_ptr<StreamCall> self_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer message_;
  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kReading;
};

// A stream that never started: reports its status at once.
class FailedStream final : public BackendStream {
 public:
  FailedStream(grpc::Status status, std::function<void(grpc::Status)> on_done)
      : status_(std::move(status)), on_done_(std::move(on_done)) {}
  void Start() override {
    if (on_done_) std::exchange(on_done_, nullptr)(status_);
  }
  void Next() override {}
  void Cancel() override {}

 private:
  grpc::Status status_;
  std::function<void(grpc::Status)> on_done_;
};

}  // namespace

Backends::Backends(const std::map<std::string, std::string>& addresses) {
  for (const auto& [name, address] : addresses) {
    Backend backend;
    grpc::ChannelArguments args;
    if (address.rfind("ipv4:", 0) == 0) args.SetLoadBalancingPolicyName("round_robin");
    backend.channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    backend.stub = std::make_unique<grpc::GenericStub>(backend.channel);
    backends_.emplace(name, std::move(backend));
  }
}

void Backends::Unary(const std::string& backend, const std::string& grpc_path, std::string request,
                     const CallOptions& options,
                     std::function<void(grpc::Status, std::string)> done) {
  auto it = backends_.find(backend);
  if (it == backends_.end()) return done(NoBackend(backend), "");
  auto call = std::make_shared<UnaryCall>();
  Prepare(call->context, options);
  call->request = ToBuffer(request);
  it->second.stub->UnaryCall(&call->context, grpc_path, grpc::StubOptions(), &call->request,
                             &call->response, [call, done = std::move(done)](grpc::Status status) {
                               done(status, status.ok() ? FromBuffer(call->response) : "");
                             });
}

std::shared_ptr<BackendStream> Backends::Stream(const std::string& backend,
                                                const std::string& grpc_path, std::string request,
                                                const CallOptions& options,
                                                StreamCallbacks callbacks) {
  auto it = backends_.find(backend);
  if (it == backends_.end()) {
    return std::make_shared<FailedStream>(NoBackend(backend), std::move(callbacks.on_done));
  }
  return std::make_shared<StreamCall>(*it->second.stub, grpc_path, request, options,
                                      std::move(callbacks));
}

void Backends::Health(absl::Duration timeout,
                      std::function<void(std::map<std::string, bool>)> done) {
  struct Gather {
    absl::Mutex mu;
    std::map<std::string, bool> serving ABSL_GUARDED_BY(mu);
    std::atomic<int> left{0};
    std::function<void(std::map<std::string, bool>)> done;
  };
  auto gather = std::make_shared<Gather>();
  gather->left = static_cast<int>(backends_.size());
  gather->done = std::move(done);
  if (backends_.empty()) return gather->done({});
  for (const auto& [name, backend] : backends_) {
    CallOptions options;
    options.deadline = absl::Now() + timeout;
    // An empty HealthCheckRequest asks about the server as a whole; SERVING is field 1 = 1.
    Unary(name, "/grpc.health.v1.Health/Check", "", options,
          [gather, name = name](grpc::Status status, std::string reply) {
            std::map<std::string, bool> all;
            {
              absl::MutexLock lock(&gather->mu);
              gather->serving[name] = status.ok() && reply == std::string("\x08\x01", 2);
              if (--gather->left > 0) return;
              all = gather->serving;
            }
            gather->done(std::move(all));
          });
  }
}

}  // namespace crm::gateway
