// Rich errors: absl::Status carrying google.rpc details, and the conversion to grpc::Status.
//
// Domain code returns absl::Status; only the service adapters convert, with ToGrpcStatus, so the
// client sees the code, the message and the google.rpc.Status details (BadRequest field
// violations, ResourceInfo of an existing duplicate) in the `grpc-status-details-bin` trailer.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"

namespace crm::api {

// INVALID_ARGUMENT naming the request field at fault ("contact.emails[1]").
absl::Status InvalidField(absl::string_view field, absl::string_view description);

// Client text to quote in an error: at most `max_bytes` of it, C-escaped, so the message stays
// one line of valid UTF-8 (it travels as a proto3 string and in JSON) whatever the client sent.
std::string EscapedEcho(absl::string_view text, size_t max_bytes);

// ALREADY_EXISTS naming the resource that already holds a unique value.
absl::Status AlreadyExistsResource(absl::string_view resource_type, absl::string_view resource_name,
                                   absl::string_view description);

// Adds a google.rpc detail message to a status (kept when converted to grpc::Status).
void AttachDetail(absl::Status& status, const google::protobuf::Message& detail);

// Returns the detail of type T attached to `status`, if any.
template <typename T>
bool GetDetail(const absl::Status& status, T* out) {
  auto payload = status.GetPayload("type.googleapis.com/" + T::descriptor()->full_name());
  return payload.has_value() && out->ParseFromString(std::string(*payload));
}

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace crm::api
