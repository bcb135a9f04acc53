// What every crmctl command does around a call: the call's context (token, deadline), errors
// printed with a hint of what to do, JSON output.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace crm::ctl {

std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token, int timeout_seconds);

// Prints "crmctl: <message>" to stderr; returns the exit code 1.
int Fail(const std::string& message);

// Prints the status with a hint: how to get a token (UNAUTHENTICATED), to read the record again
// (ABORTED), `unavailable_hint` (UNAVAILABLE: which service and flag). Returns 1.
int FailRpc(const grpc::Status& status, const std::string& unavailable_hint);

// Prints the message as indented JSON (proto3 mapping); returns 0.
int PrintJson(const google::protobuf::Message& message);

}  // namespace crm::ctl
