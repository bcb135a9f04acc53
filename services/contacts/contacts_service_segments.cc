// ContactsService: segments (saved filters), their members, CSV export and message previews.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/contacts/contact_filters.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/csv_writer.h"
#include "services/contacts/message_template.h"
#include "services/contacts/normalize.h"
#include "services/contacts/service_support.h"

namespace crm::contacts {
namespace {

constexpr absl::string_view kSegmentPrefix = "segments/";
constexpr int kExportPage = 500;

absl::Status NormalizeSegment(v1::Segment& segment) {
  auto name = CleanText(segment.display_name(), kMaxNameChars);
  if (!name.ok()) return api::InvalidField("segment.display_name", name.status().message());
  if (name->empty()) return api::InvalidField("segment.display_name", "required");
  segment.set_display_name(*name);
  if (segment.filter().empty()) return api::InvalidField("segment.filter", "required");
  // Compiled here only to refuse a bad filter when it is saved, not when it is used.
  absl::StatusOr<api::SqlFilter> compiled =
      api::CompileFilter(segment.filter(), ContactFilterSchema(), 2);
  if (!compiled.ok()) return api::InvalidField("segment.filter", compiled.status().message());
  return absl::OkStatus();
}

absl::Status ApplySegmentMask(const v1::Segment& patch, const google::protobuf::FieldMask& mask,
                              v1::Segment& target) {
  std::vector<std::string> paths(mask.paths().begin(), mask.paths().end());
  if (paths.empty()) {
    if (!patch.display_name().empty()) paths.push_back("display_name");
    if (!patch.filter().empty()) paths.push_back("filter");
    if (!patch.owner().empty()) paths.push_back("owner");
  }
  for (const std::string& path : paths) {
    if (path == "display_name" || path == "*") target.set_display_name(patch.display_name());
    if (path == "filter" || path == "*") target.set_filter(patch.filter());
    if (path == "owner" || path == "*") target.set_owner(patch.owner());
    if (path != "display_name" && path != "filter" && path != "owner" && path != "*") {
      return api::InvalidField("update_mask", absl::StrCat("'", path, "' is not a writable field"));
    }
  }
  return absl::OkStatus();
}

std::vector<CsvCell> ExportHeader(bool with_message) {
  std::vector<CsvCell> header;
  for (const char* h :
       {"name", "given_name", "family_name", "emails", "phones", "company", "job_title", "owner",
        "lifecycle_stage", "lead_source", "campaign", "tags"}) {
    header.push_back({h, true});
  }
  if (with_message) header.push_back({"message", true});
  return header;
}

std::vector<CsvCell> ExportRow(const v1::Contact& c, const std::string& company_name,
                               const MessageTemplate* message) {
  std::vector<CsvCell> row = {{c.name(), true},
                              {c.given_name()},
                              {c.family_name()},
                              {absl::StrJoin(c.emails(), ";")},
                              {absl::StrJoin(c.phones(), ";"), true},
                              {company_name},
                              {c.job_title()},
                              {c.owner()},
                              {LifecycleStageToText(c.lifecycle_stage()), true},
                              {LeadSourceToText(c.lead_source()), true},
                              {c.campaign()},
                              {absl::StrJoin(c.tags(), ";")}};
  if (message != nullptr) row.push_back({message->Render(c, company_name)});
  return row;
}

}  // namespace

absl::StatusOr<std::pair<v1::Segment, api::SqlFilter>> ContactsService::LoadSegment(
    const std::string& tenant, const std::string& name, int first_param, absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceId(name, kSegmentPrefix, "name"));
  ASSIGN_OR_RETURN(v1::Segment segment, segments_.Get(tenant, id, deadline));
  ASSIGN_OR_RETURN(api::SqlFilter filter,
                   api::CompileFilter(segment.filter(), ContactFilterSchema(), first_param));
  return std::make_pair(std::move(segment), std::move(filter));
}

grpc::Status ContactsService::CreateSegment(grpc::ServerContext* context,
                                            const v1::CreateSegmentRequest* request,
                                            v1::Segment* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    v1::Segment segment = request->segment();
    if (segment.owner().empty()) segment.set_owner(caller.user);
    RETURN_IF_ERROR(NormalizeSegment(segment));
    RETURN_IF_ERROR(CheckCanCreateFor(caller, segment.owner()));
    ASSIGN_OR_RETURN(*response,
                     segments_.Create(caller.tenant, segment, caller.user, request->request_id(),
                                      server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::GetSegment(grpc::ServerContext* context,
                                         const v1::GetSegmentRequest* request,
                                         v1::Segment* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kSegmentPrefix, "name"));
    ASSIGN_OR_RETURN(*response, segments_.Get(caller.tenant, id, server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::ListSegments(grpc::ServerContext* context,
                                           const v1::ListSegmentsRequest* request,
                                           v1::ListSegmentsResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(Page page, PageFrom(request->page_size(), request->page_token(), "segments"));
    ASSIGN_OR_RETURN(auto result,
                     segments_.List(caller.tenant, page, server::DeadlineOf(*context)));
    response->set_next_page_token(NextPageToken(result, "segments"));
    for (auto& segment : result.items) *response->add_segments() = std::move(segment);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::UpdateSegment(grpc::ServerContext* context,
                                            const v1::UpdateSegmentRequest* request,
                                            v1::Segment* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(std::string id,
                     ParseResourceId(request->segment().name(), kSegmentPrefix, "segment.name"));
    auto mutate = [&](const v1::Segment& current) -> absl::StatusOr<v1::Segment> {
      RETURN_IF_ERROR(CheckEtag(request->segment().etag(), current.etag()));
      v1::Segment next = current;
      RETURN_IF_ERROR(ApplySegmentMask(request->segment(), request->update_mask(), next));
      RETURN_IF_ERROR(NormalizeSegment(next));
      RETURN_IF_ERROR(CheckCanChange(caller, current.owner(), next.owner()));
      return next;
    };
    ASSIGN_OR_RETURN(*response, segments_.Update(caller.tenant, id, caller.user, mutate,
                                                 server::DeadlineOf(*context)));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::DeleteSegment(grpc::ServerContext* context,
                                            const v1::DeleteSegmentRequest* request,
                                            google::protobuf::Empty*) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kSegmentPrefix, "name"));
    auto check = [&](const v1::Segment& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner(), current.owner());
    };
    return segments_.Delete(caller.tenant, id, caller.user, check, server::DeadlineOf(*context));
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::CountSegment(grpc::ServerContext* context,
                                           const v1::CountSegmentRequest* request,
                                           v1::CountSegmentResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    const absl::Time deadline = server::DeadlineOf(*context);
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 2, deadline));
    ASSIGN_OR_RETURN(int64_t count, store_.CountContacts(caller.tenant, loaded.second, deadline));
    response->set_count(count);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::ListSegmentMembers(grpc::ServerContext* context,
                                                 const v1::ListSegmentMembersRequest* request,
                                                 v1::ListContactsResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    const absl::Time deadline = server::DeadlineOf(*context);
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 4, deadline));
    const std::string fingerprint = api::QueryFingerprint(loaded.first.filter());
    ASSIGN_OR_RETURN(Page page, PageFrom(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto result,
                     store_.ListContacts(caller.tenant, page, loaded.second, deadline));
    response->set_next_page_token(NextPageToken(result, fingerprint));
    for (auto& contact : result.items) *response->add_contacts() = std::move(contact);
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::ExportSegment(grpc::ServerContext* context,
                                            const v1::ExportSegmentRequest* request,
                                            grpc::ServerWriter<v1::ExportChunk>* writer) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    ASSIGN_OR_RETURN(server::StreamLimiter::Lease lease,
                     streams_.Acquire(caller.tenant, caller.user));
    // Exports may be long: each page gets its own deadline, the stream lives until done.
    auto page_deadline = [] { return absl::Now() + absl::Seconds(30); };
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 4, page_deadline()));
    std::optional<MessageTemplate> message;
    if (!request->message_template().empty()) {
      ASSIGN_OR_RETURN(message, MessageTemplate::Compile(request->message_template()));
    }
    api::SqlFilter count_filter;
    ASSIGN_OR_RETURN(count_filter,
                     api::CompileFilter(loaded.first.filter(), ContactFilterSchema(), 2));
    ASSIGN_OR_RETURN(int64_t total,
                     store_.CountContacts(caller.tenant, count_filter, page_deadline()));
    v1::ExportChunk chunk;
    chunk.set_rows_total(total);
    std::string data;
    AppendCsvRow(ExportHeader(message.has_value()), data);
    Page page;
    page.size = kExportPage;
    int64_t done = 0;
    for (;;) {
      if (context->IsCancelled()) return absl::CancelledError("client cancelled the export");
      ASSIGN_OR_RETURN(auto result,
                       store_.ListContacts(caller.tenant, page, loaded.second, page_deadline()));
      std::vector<std::string> companies;
      for (const auto& c : result.items) {
        if (!c.company().empty()) companies.push_back(c.company());
      }
      ASSIGN_OR_RETURN(auto names,
                       segments_.CompanyNames(caller.tenant, companies, page_deadline()));
      for (const auto& c : result.items) {
        AppendCsvRow(ExportRow(c, names[c.company()], message ? &*message : nullptr), data);
      }
      done += static_cast<int64_t>(result.items.size());
      chunk.set_data(std::move(data));
      data.clear();
      chunk.set_rows_done(done);
      if (!writer->Write(chunk)) return absl::CancelledError("client went away");
      if (!result.more) break;
      page.after_id = result.items.back().name().substr(kContactPrefix.size());
    }
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

grpc::Status ContactsService::PreviewSegmentMessages(
    grpc::ServerContext* context, const v1::PreviewSegmentMessagesRequest* request,
    v1::PreviewSegmentMessagesResponse* response) {
  auto run = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auth::Principal caller, authenticator_.Authenticate(*context));
    const absl::Time deadline = server::DeadlineOf(*context);
    ASSIGN_OR_RETURN(MessageTemplate message, MessageTemplate::Compile(request->template_()));
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 4, deadline));
    const std::string fingerprint = api::QueryFingerprint(loaded.first.filter());
    ASSIGN_OR_RETURN(Page page,
                     PageFrom(request->page_size(), request->page_token(), fingerprint, 200));
    ASSIGN_OR_RETURN(auto result,
                     store_.ListContacts(caller.tenant, page, loaded.second, deadline));
    std::vector<std::string> companies;
    for (const auto& c : result.items) {
      if (!c.company().empty()) companies.push_back(c.company());
    }
    ASSIGN_OR_RETURN(auto names, segments_.CompanyNames(caller.tenant, companies, deadline));
    for (const auto& c : result.items) {
      v1::PersonalizedMessage* m = response->add_messages();
      m->set_contact(c.name());
      m->set_text(message.Render(c, names[c.company()]));
    }
    response->set_next_page_token(NextPageToken(result, fingerprint));
    return absl::OkStatus();
  };
  return api::ToGrpcStatus(run());
}

}  // namespace crm::contacts
