#include "services/crmctl/rpc.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace crm::ctl {

std::unique_ptr<grpc::ClientContext> CallContext(const std::string& token, int timeout_seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  return context;
}

int Fail(const std::string& message) {
  std::cerr << "crmctl: " << message << "\n";
  return 1;
}

int FailRpc(const grpc::Status& status, const std::string& unavailable_hint) {
  std::string hint;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      hint = "\n  hint: export CRM_TOKEN=$(crmctl token --tenant acme --user alice --roles rep)";
      break;
    case grpc::StatusCode::ABORTED:
      hint = "\n  hint: the record changed since you read it; get it again and retry";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      hint = "\n  hint: " + unavailable_hint;
      break;
    default:
      break;
  }
  return Fail(absl::StrCat(status.error_message(), " (", status.error_code(), ")", hint));
}

int PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
  return 0;
}

}  // namespace crm::ctl
