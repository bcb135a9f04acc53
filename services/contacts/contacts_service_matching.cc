// ContactsService: search, likely duplicates and merging.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "common/text/normalize.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/duplicate_scoring.h"

namespace crm::contacts {
namespace {

constexpr int kMaxSearchOffset = 1000;

}  // namespace

grpc::ServerUnaryReactor* ContactsService::SearchContacts(grpc::CallbackServerContext* context,
                                                          const v1::SearchContactsRequest* request,
                                                          v1::SearchContactsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string query, text::CleanText(request->query(), 200));
    if (query.empty()) return api::InvalidField("query", "required");
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size(), 20, 100));
    // Ranked results page by offset; the token also pins the query it belongs to.
    int offset = 0;
    if (!request->page_token().empty()) {
      ASSIGN_OR_RETURN(api::PageCursor cursor, api::DecodePageToken(request->page_token(), query));
      if (!absl::SimpleAtoi(cursor.last_key, &offset) || offset < 0 || offset > kMaxSearchOffset) {
        return api::InvalidField("page_token", "malformed page token");
      }
    }
    ASSIGN_OR_RETURN(
        std::vector<SearchHit> hits,
        store_.SearchContacts(caller.tenant, query, offset, page_size + 1, call.deadline));
    const bool more = static_cast<int>(hits.size()) > page_size;
    if (more) hits.pop_back();
    for (SearchHit& hit : hits) {
      v1::SearchResult* result = response->add_results();
      *result->mutable_contact() = std::move(hit.contact);
      result->set_score(hit.score);
    }
    if (more && offset + page_size <= kMaxSearchOffset) {
      response->set_next_page_token(
          api::EncodePageToken({absl::StrCat(offset + page_size), query}));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::FindDuplicates(grpc::CallbackServerContext* context,
                                                          const v1::FindDuplicatesRequest* request,
                                                          v1::FindDuplicatesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kContactPrefix, "name"));
    ASSIGN_OR_RETURN(int limit, api::PageSize(request->page_size(), 10, 50));
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(v1::Contact contact, store_.GetContact(caller.tenant, id, deadline));
    if (!contact.merged_into().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(contact.name(), " was merged into ", contact.merged_into()));
    }
    ASSIGN_OR_RETURN(std::vector<SearchHit> similar,
                     store_.SimilarlyNamed(caller.tenant, contact, 4 * limit, deadline));
    std::vector<v1::DuplicateCandidate> candidates;
    for (SearchHit& hit : similar) {
      DuplicateScore score = ScoreDuplicate(contact, hit.contact, hit.score);
      if (score.score < 0.3) continue;
      v1::DuplicateCandidate candidate;
      *candidate.mutable_contact() = std::move(hit.contact);
      candidate.set_score(score.score);
      for (auto& reason : score.reasons) candidate.add_reasons(std::move(reason));
      candidates.push_back(std::move(candidate));
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const auto& a, const auto& b) { return a.score() > b.score(); });
    if (static_cast<int>(candidates.size()) > limit) candidates.resize(limit);
    for (auto& candidate : candidates) *response->add_candidates() = std::move(candidate);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::MergeContacts(grpc::CallbackServerContext* context,
                                                         const v1::MergeContactsRequest* request,
                                                         v1::Contact* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string winner,
                     ParseResourceId(request->winner(), kContactPrefix, "winner"));
    ASSIGN_OR_RETURN(std::string loser, ParseResourceId(request->loser(), kContactPrefix, "loser"));
    if (winner == loser) return api::InvalidField("loser", "cannot merge a contact into itself");
    auto check = [&](const v1::Contact& w, const v1::Contact& l) -> absl::Status {
      RETURN_IF_ERROR(CheckCanChange(caller, w.owner(), w.owner()));
      return CheckCanChange(caller, l.owner(), l.owner());
    };
    ASSIGN_OR_RETURN(*response, store_.MergeContacts(caller.tenant, winner, loser, caller.user,
                                                     check, call.deadline));
    return absl::OkStatus();
  });
}

}  // namespace crm::contacts
