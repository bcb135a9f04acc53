// HTTP/JSON <-> protobuf for one route, by the rules of google.api.http: path variables bind
// fields, the body fills the whole request ("*") or one field, the query fills the rest
// (repeated fields by repetition, nested ones as "a.b"); proto3 JSON mapping both ways. Pure;
// unit-tested.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/gateway/routes.h"

namespace crm::gateway {

struct HttpInput {
  std::string query;     // raw, without '?'
  std::string body;      // JSON, may be empty
  std::string if_match;  // the If-Match header, as sent
};

// The request message; INVALID_ARGUMENT (HTTP 400) saying what is wrong: malformed JSON (with
// the position), an unknown field or query parameter, a value of the wrong type.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(const RouteMatch& match,
                                                                        const HttpInput& input);

// The message as proto3 JSON (lowerCamel names, enums as names, 64-bit integers as strings).
std::string ToJson(const google::protobuf::Message& message);

// The value of a top-level string field "etag", or "".
std::string EtagOf(const google::protobuf::Message& message);

// gRPC code -> HTTP status, as google.rpc.Code documents.
int HttpStatusOf(grpc::StatusCode code);

// A google.rpc.Status as JSON with the error details the backend attached.
std::string StatusJson(const grpc::Status& status);

// A query parameter's value ("alt=media"), or "".
std::string QueryValue(const std::string& query, const std::string& name);

}  // namespace crm::gateway
