// ContactsService: the activity timeline (LogActivity, ListActivities).
#include "absl/strings/match.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/contacts/activity_rules.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"

namespace crm::contacts {

grpc::ServerUnaryReactor* ContactsService::LogActivity(grpc::CallbackServerContext* context,
                                                       const v1::LogActivityRequest* request,
                                                       v1::Activity* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    v1::Activity activity = request->activity();
    RETURN_IF_ERROR(NormalizeActivity(activity, absl::Now()));
    // Anyone in the tenant may log a touch on any contact: that is how the second rep learns
    // the lead was already called.
    ASSIGN_OR_RETURN(*response, activities_.Log(caller.tenant, activity, caller.user,
                                                request->request_id(), call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListActivities(grpc::CallbackServerContext* context,
                                                          const v1::ListActivitiesRequest* request,
                                                          v1::ListActivitiesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const bool by_company = absl::StartsWith(request->parent(), kCompanyPrefix);
    ASSIGN_OR_RETURN(
        std::string parent_id,
        ParseResourceId(request->parent(), by_company ? kCompanyPrefix : kContactPrefix, "parent"));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size(), 50, 1000));
    TimelineCursor after;
    if (!request->page_token().empty()) {
      ASSIGN_OR_RETURN(api::PageCursor cursor,
                       api::DecodePageToken(request->page_token(), request->parent()));
      ASSIGN_OR_RETURN(after, DecodeTimelineCursor(cursor.last_key));
    }
    ASSIGN_OR_RETURN(auto page, activities_.List(caller.tenant, by_company, parent_id, after,
                                                 page_size, call.deadline));
    // An empty timeline of a record that is not the caller's is NOT_FOUND, as the record is.
    if (page.items.empty() && request->page_token().empty()) {
      const absl::Status exists =
          by_company ? store_.GetCompany(caller.tenant, parent_id, call.deadline).status()
                     : store_.GetContact(caller.tenant, parent_id, call.deadline).status();
      RETURN_IF_ERROR(exists);
    }
    if (page.more && !page.items.empty()) {
      const v1::Activity& last = page.items.back();
      TimelineCursor next{last.occur_time().seconds() * 1000000 + last.occur_time().nanos() / 1000,
                          last.name().substr(kActivityPrefix.size())};
      response->set_next_page_token(
          api::EncodePageToken({EncodeTimelineCursor(next), request->parent()}));
    }
    for (auto& activity : page.items) *response->add_activities() = std::move(activity);
    return absl::OkStatus();
  });
}

}  // namespace crm::contacts
