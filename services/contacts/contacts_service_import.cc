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

absl::Status ContactsService::RunImport(
    grpc::ServerContext& context, const v1::ImportOptions& options,
    const std::function<absl::StatusOr<bool>(ContactImporter&)>& feed_next,
    v1::ImportContactsResponse* response) {
  ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(context));
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
  for (;;) {
    if (context.IsCancelled()) return absl::CancelledError("client cancelled the import");
    ASSIGN_OR_RETURN(bool more, feed_next(importer));
    if (!more) break;
  }
  ASSIGN_OR_RETURN(*response, importer.Finish());
  if (!options.dry_run()) {
    RETURN_IF_ERROR(store_.SaveImport(caller.tenant, options.import_id(), caller.user,
                                      response->SerializeAsString(), step_deadline()));
  }
  return absl::OkStatus();
}

grpc::Status ContactsService::ImportContacts(grpc::ServerContext* context,
                                             grpc::ServerReader<v1::ImportContactsRequest>* reader,
                                             v1::ImportContactsResponse* response) {
  // Who is calling comes first: nothing of the stream is read for an unauthenticated caller.
  auto caller = authenticator_.Authenticate(*context);
  if (!caller.ok()) return api::ToGrpcStatus(caller.status());
  auto lease = streams_.Acquire(caller->tenant, caller->user);
  if (!lease.ok()) return api::ToGrpcStatus(lease.status());
  v1::ImportContactsRequest message;
  if (!reader->Read(&message) || !message.has_options()) {
    return api::ToGrpcStatus(
        api::InvalidField("options", "the first message must carry the import options"));
  }
  const v1::ImportOptions options = message.options();
  auto feed_next = [&](ContactImporter& importer) -> absl::StatusOr<bool> {
    if (!reader->Read(&message)) return false;
    if (message.has_options()) {
      return api::InvalidField("options", "only the first message may carry options");
    }
    if (message.chunk().size() > kMaxChunkBytes) {
      return api::InvalidField("chunk", "chunks are at most 1 MiB");
    }
    RETURN_IF_ERROR(importer.Feed(message.chunk()));
    return true;
  };
  return api::ToGrpcStatus(RunImport(*context, options, feed_next, response));
}

grpc::Status ContactsService::ImportContactsFile(grpc::ServerContext* context,
                                                 const v1::ImportContactsFileRequest* request,
                                                 v1::ImportContactsResponse* response) {
  if (request->csv().size() > kMaxChunkBytes) {
    return api::ToGrpcStatus(api::InvalidField("csv", "at most 1 MiB; use ImportContacts"));
  }
  bool fed = false;
  auto feed_next = [&](ContactImporter& importer) -> absl::StatusOr<bool> {
    if (fed) return false;
    fed = true;
    RETURN_IF_ERROR(importer.Feed(request->csv()));
    return true;
  };
  return api::ToGrpcStatus(RunImport(*context, request->options(), feed_next, response));
}

}  // namespace crm::contacts
