// Calls a backend's gRPC methods with serialized messages over the gRPC callback API
// (grpc::GenericStub): no thread waits for a reply. A unary call reports once; a server stream
// delivers one message at a time and reads the next only when asked, so a slow HTTP client slows
// its own stream (gRPC flow control) and holds no more than one message.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"

namespace crm::gateway {

struct CallOptions {
  std::string authorization;  // "Bearer <token>", already checked to be a well-formed token
  absl::Time deadline;
};

// A server stream being read. Next() and Cancel() may be called from any thread.
class BackendStream : public std::enable_shared_from_this<BackendStream> {
 public:
  virtual ~BackendStream() = default;
  // Starts the call; the callbacks may run before Start() returns.
  virtual void Start() = 0;
  // Reads the next message (after on_message delivered the previous one).
  virtual void Next() = 0;
  // Ends the call (the HTTP client left); on_done follows with CANCELLED.
  virtual void Cancel() = 0;
};

struct StreamCallbacks {
  std::function<void(std::string message)> on_message;  // then call Next() for another
  std::function<void(grpc::Status status)> on_done;     // once, last
};

class Backends final {
 public:
  // backend name -> host:port ("ipv4:a:1,b:2" names several replicas: round robin over them).
  explicit Backends(const std::map<std::string, std::string>& addresses);

  // Sends `request` (serialized) to `grpc_path` on `backend`; `done` runs once, on a gRPC thread,
  // with the status and the serialized reply.
  void Unary(const std::string& backend, const std::string& grpc_path, std::string request,
             const CallOptions& options, std::function<void(grpc::Status, std::string)> done);

  // A server stream, to Start() once the caller holds the handle; the callbacks run on gRPC
  // threads. Never null: a stream that cannot start reports through on_done.
  std::shared_ptr<BackendStream> Stream(const std::string& backend, const std::string& grpc_path,
                                        std::string request, const CallOptions& options,
                                        StreamCallbacks callbacks);

  // grpc.health.v1 Check of every backend; `done` gets name -> serving.
  void Health(absl::Duration timeout, std::function<void(std::map<std::string, bool>)> done);

 private:
  struct Backend {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  std::map<std::string, Backend> backends_;
};

}  // namespace crm::gateway
