// Calls a backend's gRPC method with serialized messages (grpc::GenericStub): one unary call, or
// a server stream read message by message. The caller's token and deadline travel with it.
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
  std::string authorization;  // the Authorization header, passed through
  absl::Time deadline;
};

class Backends final {
 public:
  // backend name -> host:port.
  explicit Backends(const std::map<std::string, std::string>& addresses);

  // Sends `request` (serialized) to `grpc_path` on `backend`; fills `response` (serialized).
  grpc::Status Unary(const std::string& backend, const std::string& grpc_path,
                     const std::string& request, const CallOptions& options, std::string* response);

  // Reads a server stream. `on_message` gets each serialized message and returns false to stop
  // (the client went away); `keep_going` is asked about once a second while nothing arrives.
  grpc::Status Stream(const std::string& backend, const std::string& grpc_path,
                      const std::string& request, const CallOptions& options,
                      const std::function<bool(const std::string&)>& on_message,
                      const std::function<bool()>& keep_going);

  // grpc.health.v1 Check of every backend: name -> serving.
  std::map<std::string, bool> Health(absl::Duration timeout);

 private:
  struct Backend {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
  };
  std::map<std::string, Backend> backends_;
};

}  // namespace crm::gateway
