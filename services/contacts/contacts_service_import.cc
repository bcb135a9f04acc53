// ContactsService: CSV import (client streaming).
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/contacts/contact_importer.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"

namespace crm::contacts {
namespace {

constexpr size_t kMaxChunkBytes = 1 << 20;

}  // namespace

grpc::Status ContactsService::ImportContacts(grpc::ServerContext* context,
                                             grpc::ServerReader<v1::ImportContactsRequest>* reader,
                                             v1::ImportContactsResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    v1::ImportContactsRequest message;
    if (!reader->Read(&message) || !message.has_options()) {
      return api::InvalidField("options", "the first message must carry the import options");
    }
    const v1::ImportOptions options = message.options();
    if (options.import_id().empty()) return api::InvalidField("options.import_id", "required");
    RETURN_IF_ERROR(ValidateRequestId(options.import_id()));
    // Imports can take minutes: every database step gets its own deadline.
    auto step_deadline = [] { return absl::Now() + absl::Seconds(30); };
    ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                     store_.FindImport(caller.tenant, options.import_id(), step_deadline()));
    if (earlier.has_value()) {
      // A retry of a finished import answers with its first report and writes nothing.
      if (!response->ParseFromString(*earlier)) return absl::InternalError("corrupt import report");
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(caller.tenant, step_deadline()));
    ContactImporter importer(store_, caller, settings.default_phone_region(), options);
    while (reader->Read(&message)) {
      if (context->IsCancelled()) return absl::CancelledError("client cancelled the import");
      if (message.has_options()) {
        return api::InvalidField("options", "only the first message may carry options");
      }
      if (message.chunk().size() > kMaxChunkBytes) {
        return api::InvalidField("chunk", "chunks are at most 1 MiB");
      }
      RETURN_IF_ERROR(importer.Feed(message.chunk()));
    }
    ASSIGN_OR_RETURN(*response, importer.Finish());
    if (!options.dry_run()) {
      RETURN_IF_ERROR(store_.SaveImport(caller.tenant, options.import_id(), caller.user,
                                        response->SerializeAsString(), step_deadline()));
    }
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

}  // namespace crm::contacts
