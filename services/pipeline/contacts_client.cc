#include "services/pipeline/contacts_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"

namespace crm::pipeline {

ContactsClient::ContactsClient(const std::string& address)
    : ContactsClient(grpc::CreateChannel(address, grpc::InsecureChannelCredentials())) {}

ContactsClient::ContactsClient(std::shared_ptr<grpc::Channel> channel)
    : stub_(crm::contacts::v1::ContactsService::NewStub(std::move(channel))) {}

absl::Status ContactsClient::CheckExists(const std::string& name, const std::string& field,
                                         const std::string& authorization, absl::Time deadline) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", authorization);
  // Never wait longer than the caller would, and never more than five seconds.
  context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(5))));
  grpc::Status status;
  if (absl::StartsWith(name, "contacts/")) {
    crm::contacts::v1::GetContactRequest request;
    request.set_name(name);
    crm::contacts::v1::Contact contact;
    status = stub_->GetContact(&context, request, &contact);
    if (status.ok() && !contact.merged_into().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": ", name, " was merged into ", contact.merged_into()));
    }
  } else if (absl::StartsWith(name, "companies/")) {
    crm::contacts::v1::GetCompanyRequest request;
    request.set_name(name);
    crm::contacts::v1::Company company;
    status = stub_->GetCompany(&context, request, &company);
  } else {
    return api::InvalidField(field, "must name contacts/{id} or companies/{id}");
  }
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return absl::NotFoundError(absl::StrCat(field, ": ", name, " does not exist"));
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("contacts service: ", status.error_message()));
}

}  // namespace crm::pipeline
