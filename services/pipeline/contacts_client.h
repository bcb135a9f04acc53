// Checks over gRPC that contacts and companies a deal points at exist in the caller's tenant,
// forwarding the caller's token and deadline (the contacts service enforces the tenant).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"

namespace crm::pipeline {

class ContactsClient final {
 public:
  // `address` is the contacts service's host:port.
  explicit ContactsClient(const std::string& address);
  // For tests: talk to an existing channel.
  explicit ContactsClient(std::shared_ptr<grpc::Channel> channel);

  // OK when `name` ("contacts/..." or "companies/...") exists for the caller. NOT_FOUND names
  // `field`; other failures keep their code (UNAVAILABLE: retryable).
  absl::Status CheckExists(const std::string& name, const std::string& field,
                           const std::string& authorization, absl::Time deadline);

 private:
  std::unique_ptr<crm::contacts::v1::ContactsService::Stub> stub_;
};

}  // namespace crm::pipeline
