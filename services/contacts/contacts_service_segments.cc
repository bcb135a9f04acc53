// ContactsService: segments (saved filters), their members, CSV export and message previews.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "common/server/write_stream.h"
#include "common/text/normalize.h"
#include "services/contacts/contact_filters.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/csv_writer.h"
#include "services/contacts/message_template.h"
#include "services/contacts/service_support.h"

namespace crm::contacts {
namespace {

constexpr absl::string_view kSegmentPrefix = "segments/";
constexpr int kExportPage = 500;

// Checks what needs no database; the filter is compiled by the caller (it needs the custom fields).
absl::Status NormalizeSegment(v1::Segment& segment) {
  auto name = text::CleanText(segment.display_name(), kMaxNameChars);
  if (!name.ok()) return api::InvalidField("segment.display_name", name.status().message());
  if (name->empty()) return api::InvalidField("segment.display_name", "required");
  segment.set_display_name(*name);
  if (segment.filter().empty()) return api::InvalidField("segment.filter", "required");
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

// The columns after the built-in ones: custom_fields.<key> for each live custom field, the
// headers an import maps back to the same fields.
std::vector<CsvCell> ExportHeader(const std::vector<std::string>& field_keys, bool with_message) {
  std::vector<CsvCell> header;
  for (const char* h :
       {"name", "given_name", "family_name", "emails", "phones", "company", "job_title", "owner",
        "lifecycle_stage", "lead_source", "campaign", "tags"}) {
    header.push_back({h, true});
  }
  for (const std::string& key : field_keys) header.push_back({"custom_fields." + key, true});
  if (with_message) header.push_back({"message", true});
  return header;
}

std::vector<CsvCell> ExportRow(const v1::Contact& c, const std::string& company_name,
                               const std::vector<std::string>& field_keys,
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
  for (const std::string& key : field_keys) {
    auto it = c.custom_fields().find(key);
    row.push_back({it == c.custom_fields().end() ? "" : fields::ValueToText(it->second)});
  }
  if (message != nullptr) row.push_back({message->Render(c, company_name)});
  return row;
}

}  // namespace

absl::Status ContactsService::CheckSegmentFilter(const std::string& tenant,
                                                 const std::string& filter, absl::Time deadline) {
  // Compiled here only to refuse a bad filter when it is saved, not when it is used.
  absl::StatusOr<api::SqlFilter> compiled = CompileContactFilter(tenant, filter, 2, deadline);
  if (compiled.status().code() == absl::StatusCode::kInvalidArgument) {
    return api::InvalidField("segment.filter", compiled.status().message());
  }
  return compiled.status();
}

absl::StatusOr<std::pair<v1::Segment, api::SqlFilter>> ContactsService::LoadSegment(
    const std::string& tenant, const std::string& name, int first_param, absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string id, ParseResourceId(name, kSegmentPrefix, "name"));
  ASSIGN_OR_RETURN(v1::Segment segment, segments_.Get(tenant, id, deadline));
  ASSIGN_OR_RETURN(api::SqlFilter filter,
                   CompileContactFilter(tenant, segment.filter(), first_param, deadline));
  return std::make_pair(std::move(segment), std::move(filter));
}

grpc::ServerUnaryReactor* ContactsService::CreateSegment(grpc::CallbackServerContext* context,
                                                         const v1::CreateSegmentRequest* request,
                                                         v1::Segment* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    v1::Segment segment = request->segment();
    if (segment.owner().empty()) segment.set_owner(caller.user);
    RETURN_IF_ERROR(NormalizeSegment(segment));
    RETURN_IF_ERROR(CheckSegmentFilter(caller.tenant, segment.filter(), call.deadline));
    RETURN_IF_ERROR(CheckCanCreateFor(caller, segment.owner()));
    ASSIGN_OR_RETURN(*response, segments_.Create(caller.tenant, segment, caller.user,
                                                 request->request_id(), call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::GetSegment(grpc::CallbackServerContext* context,
                                                      const v1::GetSegmentRequest* request,
                                                      v1::Segment* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kSegmentPrefix, "name"));
    ASSIGN_OR_RETURN(*response, segments_.Get(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListSegments(grpc::CallbackServerContext* context,
                                                        const v1::ListSegmentsRequest* request,
                                                        v1::ListSegmentsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(Page page, PageFrom(request->page_size(), request->page_token(), "segments"));
    ASSIGN_OR_RETURN(auto result, segments_.List(caller.tenant, page, call.deadline));
    response->set_next_page_token(NextPageToken(result, "segments"));
    for (auto& segment : result.items) *response->add_segments() = std::move(segment);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::UpdateSegment(grpc::CallbackServerContext* context,
                                                         const v1::UpdateSegmentRequest* request,
                                                         v1::Segment* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     ParseResourceId(request->segment().name(), kSegmentPrefix, "segment.name"));
    auto mutate = [&](const v1::Segment& current) -> absl::StatusOr<v1::Segment> {
      RETURN_IF_ERROR(CheckEtag(request->segment().etag(), current.etag()));
      v1::Segment next = current;
      RETURN_IF_ERROR(ApplySegmentMask(request->segment(), request->update_mask(), next));
      RETURN_IF_ERROR(NormalizeSegment(next));
      RETURN_IF_ERROR(CheckSegmentFilter(caller.tenant, next.filter(), call.deadline));
      RETURN_IF_ERROR(CheckCanChange(caller, current.owner(), next.owner()));
      return next;
    };
    ASSIGN_OR_RETURN(*response,
                     segments_.Update(caller.tenant, id, caller.user, mutate, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::DeleteSegment(grpc::CallbackServerContext* context,
                                                         const v1::DeleteSegmentRequest* request,
                                                         google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kSegmentPrefix, "name"));
    auto check = [&](const v1::Segment& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner(), current.owner());
    };
    return segments_.Delete(caller.tenant, id, caller.user, check, call.deadline);
  });
}

grpc::ServerUnaryReactor* ContactsService::CountSegment(grpc::CallbackServerContext* context,
                                                        const v1::CountSegmentRequest* request,
                                                        v1::CountSegmentResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 2, deadline));
    ASSIGN_OR_RETURN(int64_t count, store_.CountContacts(caller.tenant, loaded.second, deadline));
    response->set_count(count);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListSegmentMembers(
    grpc::CallbackServerContext* context, const v1::ListSegmentMembersRequest* request,
    v1::ListContactsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(auto loaded, LoadSegment(caller.tenant, request->name(), 4, deadline));
    const std::string fingerprint = api::QueryFingerprint(loaded.first.filter());
    ASSIGN_OR_RETURN(Page page, PageFrom(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto result,
                     store_.ListContacts(caller.tenant, page, loaded.second, deadline));
    response->set_next_page_token(NextPageToken(result, fingerprint));
    for (auto& contact : result.items) *response->add_contacts() = std::move(contact);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::ExportChunk>* ContactsService::ExportSegment(
    grpc::CallbackServerContext* context, const v1::ExportSegmentRequest* request) {
  using Stream = server::WriteStream<v1::ExportChunk>;
  absl::StatusOr<auth::Principal> caller = rpcs_.Authorize<v1::ExportSegmentRequest>(*context);
  if (!caller.ok()) return Stream::Refuse(caller.status());
  absl::StatusOr<server::StreamLimiter::Lease> lease =
      streams_.Acquire(caller->tenant, caller->user);
  if (!lease.ok()) return Stream::Refuse(lease.status());
  // The export's progress between pages: each page is one step on the executor, with its own
  // deadline (exports may be long, the stream lives until done).
  struct Export {
    std::optional<server::StreamLimiter::Lease> lease;
    auth::Principal caller;
    v1::ExportSegmentRequest request;
    bool started = false;
    api::SqlFilter filter;
    std::optional<MessageTemplate> message;
    std::vector<std::string> field_keys;  // the custom field columns, fixed when the export starts
    int64_t total = 0;
    int64_t done = 0;
    Page page;
  };
  auto state = std::make_shared<Export>();
  state->lease.emplace(*std::move(lease));
  state->caller = *std::move(caller);
  state->request = *request;
  auto page_deadline = [] { return absl::Now() + absl::Seconds(30); };
  auto begin = [this, state, page_deadline]() -> absl::Status {
    ASSIGN_OR_RETURN(auto loaded,
                     LoadSegment(state->caller.tenant, state->request.name(), 4, page_deadline()));
    if (!state->request.message_template().empty()) {
      ASSIGN_OR_RETURN(state->message, MessageTemplate::Compile(state->request.message_template()));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<const fields::Snapshot> fields,
                     custom_fields_.Current(state->caller.tenant, common::v1::OBJECT_TYPE_CONTACT,
                                            page_deadline()));
    for (const auto& d : fields->definitions) {
      if (!d.archived()) state->field_keys.push_back(d.key());
    }
    api::SqlFilter count_filter;
    ASSIGN_OR_RETURN(count_filter, CompileContactFilter(state->caller.tenant, loaded.first.filter(),
                                                        2, page_deadline()));
    ASSIGN_OR_RETURN(state->total,
                     store_.CountContacts(state->caller.tenant, count_filter, page_deadline()));
    state->filter = std::move(loaded.second);
    state->page.size = kExportPage;
    return absl::OkStatus();
  };
  auto next_page = [this, state, page_deadline](std::string data) -> absl::StatusOr<Stream::Step> {
    const std::string& tenant = state->caller.tenant;
    ASSIGN_OR_RETURN(auto result,
                     store_.ListContacts(tenant, state->page, state->filter, page_deadline()));
    std::vector<std::string> companies;
    for (const auto& c : result.items) {
      if (!c.company().empty()) companies.push_back(c.company());
    }
    ASSIGN_OR_RETURN(auto names, segments_.CompanyNames(tenant, companies, page_deadline()));
    const MessageTemplate* message = state->message ? &*state->message : nullptr;
    for (const auto& c : result.items)
      AppendCsvRow(ExportRow(c, names[c.company()], state->field_keys, message), data);
    state->done += static_cast<int64_t>(result.items.size());
    Stream::Step step;
    v1::ExportChunk& chunk = step.messages.emplace_back();
    chunk.set_rows_total(state->total);
    chunk.set_rows_done(state->done);
    chunk.set_data(std::move(data));
    if (result.more) {
      state->page.after_id = result.items.back().name().substr(kContactPrefix.size());
    } else {
      step.finish = absl::OkStatus();
    }
    return step;
  };
  auto produce = [state, begin, next_page](bool) -> Stream::Step {
    std::string data;
    if (!state->started) {
      state->started = true;
      if (absl::Status begun = begin(); !begun.ok()) return Stream::Step::Ending(begun);
      AppendCsvRow(ExportHeader(state->field_keys, state->message.has_value()), data);
    }
    absl::StatusOr<Stream::Step> step = next_page(std::move(data));
    if (!step.ok()) return Stream::Step::Ending(step.status());
    return *std::move(step);
  };
  return Stream::Start(executor_, nullptr, std::move(produce));
}

grpc::ServerUnaryReactor* ContactsService::PreviewSegmentMessages(
    grpc::CallbackServerContext* context, const v1::PreviewSegmentMessagesRequest* request,
    v1::PreviewSegmentMessagesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
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
  });
}

}  // namespace crm::contacts
