// The one path every RPC of every service takes. A unary handler is one line plus its domain code:
//
//   grpc::ServerUnaryReactor* TasksService::GetTask(grpc::CallbackServerContext* context,
//                                                   const v1::GetTaskRequest* request,
//                                                   v1::Task* response) {
//     return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
//       ...
//     });
//   }
//
// Serve authenticates the caller, applies the access the RPC declares in the proto
// (crm.common.v1.access), takes the caller's deadline, runs the domain code on the executor (never
// on gRPC's threads: it may wait on the database), and finishes with its absl::Status mapped to
// grpc::Status with google.rpc details. Streaming RPCs call Authorize for the same first two steps.
// An RPC is known by its request type: every RPC has its own request message (AIP-131), which
// this version of gRPC's server context, without the method's name, makes the one sure key.
// The metrics of every RPC come from the interceptor every server installs (grpc_metrics.h).
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/server/executor.h"
#include "crm/common/v1/access.pb.h"

namespace crm::server {

// What domain code gets of the call besides its request.
struct Call {
  auth::Principal caller;
  absl::Time deadline;
  // The caller's own `authorization` metadata, to call another service on the caller's behalf.
  std::string authorization;
};

using UnaryDomain = std::function<absl::Status(const Call& call)>;

class Rpcs final {
 public:
  // `service` is a full name ("crm.tasks.v1.TasksService"). Aborts, naming the method, when one
  // of the service's RPCs declares no access or shares its request type with another: a server
  // that would serve it must not start.
  Rpcs(const auth::Authenticator& authenticator, Executor& executor, absl::string_view service);

  // The access of the RPC that takes `Request`; UNSPECIFIED if no RPC of the service does.
  template <typename Request>
  common::v1::Access AccessOf() const {
    return AccessOf(*Request::descriptor());
  }

  // Authenticates the caller and applies the access of the RPC that takes `Request`:
  // UNAUTHENTICATED without a valid credential of the kind the RPC takes, PERMISSION_DENIED for a
  // role below it.
  template <typename Request>
  absl::StatusOr<auth::Principal> Authorize(const grpc::CallbackServerContext& context) const {
    return Authorize(context, *Request::descriptor());
  }

  // The unary path described above. RESOURCE_EXHAUSTED, without running `domain`, when the
  // executor's queue is full; CANCELLED when the caller gave up before the work started.
  template <typename Request>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context, const Request* request,
                                  UnaryDomain domain) const {
    (void)request;  // only its type matters
    return Serve(context, *Request::descriptor(), std::move(domain));
  }

 private:
  common::v1::Access AccessOf(const google::protobuf::Descriptor& request_type) const;
  absl::StatusOr<auth::Principal> Authorize(const grpc::CallbackServerContext& context,
                                            const google::protobuf::Descriptor& request_type) const;
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const google::protobuf::Descriptor& request_type,
                                  UnaryDomain domain) const;

  const auth::Authenticator& authenticator_;
  Executor& executor_;
  // By the full name of the RPC's request message.
  absl::flat_hash_map<std::string, common::v1::Access> access_;
};

// The role check of an access level, for a caller already authenticated as a user.
absl::Status CheckAccess(const auth::Principal& caller, common::v1::Access access);

}  // namespace crm::server
