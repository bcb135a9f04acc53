#include "common/server/rpc.h"

#include <google/protobuf/descriptor.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/api/errors.h"
#include "common/server/server.h"

namespace crm::server {
namespace {

using common::v1::Access;

std::string AuthorizationOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

}  // namespace

Rpcs::Rpcs(const auth::Authenticator& authenticator, Executor& executor, absl::string_view service)
    : authenticator_(authenticator), executor_(executor) {
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(std::string(service));
  if (descriptor == nullptr) {
    std::fprintf(stderr, "no such service in the compiled protos: %s\n",
                 std::string(service).c_str());
    std::abort();
  }
  for (int i = 0; i < descriptor->method_count(); ++i) {
    const auto* method = descriptor->method(i);
    const Access access = method->options().GetExtension(common::v1::access);
    if (access == common::v1::ACCESS_UNSPECIFIED) {
      std::fprintf(stderr, "%s declares no (crm.common.v1.access): refusing to serve it\n",
                   method->full_name().c_str());
      std::abort();
    }
    if (!access_.emplace(method->input_type()->full_name(), access).second) {
      std::fprintf(stderr, "%s shares its request type with another RPC: give it its own\n",
                   method->full_name().c_str());
      std::abort();
    }
  }
}

Access Rpcs::AccessOf(const google::protobuf::Descriptor& request_type) const {
  auto it = access_.find(request_type.full_name());
  return it == access_.end() ? common::v1::ACCESS_UNSPECIFIED : it->second;
}

absl::Status CheckAccess(const auth::Principal& caller, Access access) {
  switch (access) {
    case common::v1::ACCESS_MEMBER:
      return absl::OkStatus();
    case common::v1::ACCESS_MANAGER:
      if (caller.manager || caller.admin) return absl::OkStatus();
      return absl::PermissionDeniedError("for managers and admins only");
    case common::v1::ACCESS_ADMIN:
      if (caller.admin) return absl::OkStatus();
      return absl::PermissionDeniedError("for admins only");
    default:
      return absl::PermissionDeniedError("this method is not open to users");
  }
}

absl::StatusOr<auth::Principal> Rpcs::Authorize(
    const grpc::CallbackServerContext& context,
    const google::protobuf::Descriptor& request_type) const {
  const Access access = AccessOf(request_type);
  if (access == common::v1::ACCESS_UNSPECIFIED) {
    return absl::PermissionDeniedError("this method declares no access");  // fail closed
  }
  if (access == common::v1::ACCESS_SERVICE) return authenticator_.AuthenticateService(context);
  absl::StatusOr<auth::Principal> caller = authenticator_.Authenticate(context);
  if (!caller.ok()) return caller.status();
  if (absl::Status allowed = CheckAccess(*caller, access); !allowed.ok()) return allowed;
  return caller;
}

grpc::ServerUnaryReactor* Rpcs::Serve(grpc::CallbackServerContext* context,
                                      const google::protobuf::Descriptor& request_type,
                                      UnaryDomain domain) const {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<auth::Principal> caller = Authorize(*context, request_type);
  if (!caller.ok()) {
    reactor->Finish(api::ToGrpcStatus(caller.status()));
    return reactor;
  }
  Call call{*std::move(caller), DeadlineOf(*context), AuthorizationOf(*context)};
  const bool queued =
      executor_.TryPost([context, reactor, call = std::move(call), domain = std::move(domain)] {
        if (context->IsCancelled()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the caller gave up"));
          return;
        }
        reactor->Finish(api::ToGrpcStatus(domain(call)));
      });
  if (!queued) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "the server is busy; retry shortly"));
  }
  return reactor;
}

}  // namespace crm::server
