// ContactsService: CSV import, streamed (a reactor, database work on the executor) or in one
// request (ImportContactsFile, for HTTP clients).
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "common/server/read_stream.h"
#include "common/server/server.h"
#include "services/contacts/contact_importer.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"

namespace crm::contacts {
namespace {

constexpr size_t kMaxChunkBytes = 1 << 20;

// Imports can take minutes: every database step gets its own deadline.
absl::Time StepDeadline() { return absl::Now() + absl::Seconds(30); }

}  // namespace

class ContactsService::Import final {
 public:
  Import(ContactsService& service, auth::Principal caller)
      : service_(service), caller_(std::move(caller)) {}

  // Checks the options; a retry of a finished import (same import_id) gets the first report.
  absl::Status Begin(const v1::ImportOptions& options) {
    if (options.import_id().empty()) return api::InvalidField("options.import_id", "required");
    RETURN_IF_ERROR(api::ValidateRequestId(options.import_id(), "options.import_id"));
    options_ = options;
    ASSIGN_OR_RETURN(std::optional<std::string> earlier,
                     service_.store_.FindImport(caller_.tenant, caller_.user, options.import_id(),
                                                StepDeadline()));
    if (earlier.has_value()) {
      if (!earlier_.ParseFromString(*earlier)) return absl::InternalError("corrupt import report");
      repeated_ = true;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(v1::TenantSettings settings,
                     service_.Settings(caller_.tenant, StepDeadline()));
    ImportCustomFields custom_fields;
    ASSIGN_OR_RETURN(custom_fields.snapshot,
                     service_.custom_fields_.Current(
                         caller_.tenant, common::v1::OBJECT_TYPE_CONTACT, StepDeadline()));
    custom_fields.normalizers = fields::StandardNormalizers(settings.default_phone_region());
    // Imports refuse unique columns (fields::CanImport), so only the version needs checking.
    custom_fields.guard = [&definitions = service_.custom_fields_,
                           version = custom_fields.snapshot->version](db::Transaction& tx) {
      definitions.QueueVersionCheck(tx, common::v1::OBJECT_TYPE_CONTACT, version);
    };
    importer_ =
        std::make_unique<ContactImporter>(service_.store_, caller_, settings.default_phone_region(),
                                          options, std::move(custom_fields));
    return absl::OkStatus();
  }

  absl::Status Feed(const std::string& chunk) {
    if (!repeated_ && importer_ == nullptr) return absl::InternalError("import fed before Begin");
    if (chunk.size() > kMaxChunkBytes)
      return api::InvalidField("chunk", "chunks are at most 1 MiB");
    if (repeated_) return absl::OkStatus();  // the first run's report stands
    return importer_->Feed(chunk);
  }

  absl::Status Finish(v1::ImportContactsResponse* response) {
    if (!repeated_ && importer_ == nullptr) {  // the stream ended before its first message
      return api::InvalidField("options", "the first message must carry the import options");
    }
    if (repeated_) {
      *response = earlier_;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(*response, importer_->Finish());
    if (!options_.dry_run()) {
      RETURN_IF_ERROR(service_.store_.SaveImport(caller_.tenant, options_.import_id(), caller_.user,
                                                 response->SerializeAsString(), StepDeadline()));
    }
    return absl::OkStatus();
  }

 private:
  ContactsService& service_;
  const auth::Principal caller_;
  v1::ImportOptions options_;
  std::unique_ptr<ContactImporter> importer_;
  v1::ImportContactsResponse earlier_;
  bool repeated_ = false;
};

grpc::ServerReadReactor<v1::ImportContactsRequest>* ContactsService::ImportContacts(
    grpc::CallbackServerContext* context, v1::ImportContactsResponse* response) {
  using Stream = server::ReadStream<v1::ImportContactsRequest, v1::ImportContactsResponse>;
  // Who is calling comes first: nothing of the stream is read for an unauthenticated caller.
  absl::StatusOr<auth::Principal> caller = rpcs_.Authorize<v1::ImportContactsRequest>(*context);
  if (!caller.ok()) return Stream::Refuse(caller.status());
  absl::StatusOr<server::StreamLimiter::Lease> lease =
      streams_.Acquire(caller->tenant, caller->user);
  if (!lease.ok()) return Stream::Refuse(lease.status());
  struct State {
    std::optional<server::StreamLimiter::Lease> lease;
    std::unique_ptr<Import> import;
  };
  auto state = std::make_shared<State>();
  state->lease.emplace(*std::move(lease));
  state->import = std::make_unique<Import>(*this, *std::move(caller));
  Stream::Handlers handlers;
  handlers.each = [state, first = true](const v1::ImportContactsRequest& message) mutable {
    if (first) {
      first = false;
      if (!message.has_options()) {
        return api::InvalidField("options", "the first message must carry the import options");
      }
      return state->import->Begin(message.options());
    }
    if (message.has_options()) {
      return api::InvalidField("options", "only the first message may carry options");
    }
    return state->import->Feed(message.chunk());
  };
  handlers.end = [state](v1::ImportContactsResponse* out) -> absl::Status {
    if (state->import == nullptr) return absl::InternalError("import ended twice");
    absl::Status finished = state->import->Finish(out);
    state->import.reset();
    return finished;
  };
  return Stream::Start(executor_, response, std::move(handlers));
}

grpc::ServerUnaryReactor* ContactsService::ImportContactsFile(
    grpc::CallbackServerContext* context, const v1::ImportContactsFileRequest* request,
    v1::ImportContactsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    if (request->csv().size() > kMaxChunkBytes) {
      return api::InvalidField("csv", "at most 1 MiB; use ImportContacts");
    }
    Import import(*this, std::move(caller));
    RETURN_IF_ERROR(import.Begin(request->options()));
    RETURN_IF_ERROR(import.Feed(request->csv()));
    return import.Finish(response);
  });
}

}  // namespace crm::contacts
