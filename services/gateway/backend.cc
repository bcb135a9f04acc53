#include "services/gateway/backend.h"

#include "absl/strings/str_cat.h"

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

// Waits for the one outstanding operation; false if it failed.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  return cq.Next(&tag, &ok) && ok;
}

}  // namespace

Backends::Backends(const std::map<std::string, std::string>& addresses) {
  for (const auto& [name, address] : addresses) {
    Backend backend;
    // "ipv4:host:port,host:port" names several replicas: spread calls over the live ones.
    grpc::ChannelArguments args;
    if (address.rfind("ipv4:", 0) == 0) args.SetLoadBalancingPolicyName("round_robin");
    backend.channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    backend.stub = std::make_unique<grpc::GenericStub>(backend.channel);
    backends_.emplace(name, std::move(backend));
  }
}

grpc::Status Backends::Unary(const std::string& backend, const std::string& grpc_path,
                             const std::string& request, const CallOptions& options,
                             std::string* response) {
  auto it = backends_.find(backend);
  if (it == backends_.end()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("no backend ", backend));
  }
  grpc::ClientContext context;
  Prepare(context, options);
  grpc::CompletionQueue cq;
  const grpc::ByteBuffer buffer = ToBuffer(request);
  auto call = it->second.stub->PrepareUnaryCall(&context, grpc_path, buffer, &cq);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  if (status.ok()) *response = FromBuffer(reply);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

grpc::Status Backends::Stream(const std::string& backend, const std::string& grpc_path,
                              const std::string& request, const CallOptions& options,
                              const std::function<bool(const std::string&)>& on_message,
                              const std::function<bool()>& keep_going) {
  auto it = backends_.find(backend);
  if (it == backends_.end()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("no backend ", backend));
  }
  grpc::ClientContext context;
  Prepare(context, options);
  grpc::CompletionQueue cq;
  auto call = it->second.stub->PrepareCall(&context, grpc_path, &cq);
  grpc::Status status;
  auto drain = [&] {
    cq.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) {
    }
  };
  call->StartCall(reinterpret_cast<void*>(1));
  bool started = Await(cq);
  if (started) {
    call->WriteLast(ToBuffer(request), grpc::WriteOptions(), reinterpret_cast<void*>(2));
    started = Await(cq);
  }
  bool stopped = false;
  while (started) {
    grpc::ByteBuffer message;
    call->Read(&message, reinterpret_cast<void*>(3));
    // Wake at least once a second to ask whether the client is still there.
    void* tag = nullptr;
    bool ok = false;
    for (;;) {
      const auto next =
          cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::seconds(1));
      if (next == grpc::CompletionQueue::GOT_EVENT) break;
      if (next == grpc::CompletionQueue::SHUTDOWN) break;
      if (!stopped && !keep_going()) {
        stopped = true;
        context.TryCancel();
      }
    }
    if (!ok) break;  // the stream ended (or was cancelled)
    if (!stopped && !on_message(FromBuffer(message))) {
      stopped = true;
      context.TryCancel();
    }
  }
  call->Finish(&status, reinterpret_cast<void*>(4));
  (void)Await(cq);
  drain();
  if (stopped) return grpc::Status::CANCELLED;
  return status;
}

std::map<std::string, bool> Backends::Health(absl::Duration timeout) {
  std::map<std::string, bool> out;
  for (const auto& [name, backend] : backends_) {
    CallOptions options;
    options.deadline = absl::Now() + timeout;
    std::string reply;
    // An empty HealthCheckRequest asks about the server as a whole; SERVING is field 1 = 1.
    const grpc::Status status = Unary(name, "/grpc.health.v1.Health/Check", "", options, &reply);
    out[name] = status.ok() && reply == std::string("\x08\x01", 2);
  }
  return out;
}

}  // namespace crm::gateway
