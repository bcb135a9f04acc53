#include "services/pipeline/pipeline_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "common/ids/uuid.h"
#include "common/server/server.h"
#include "services/pipeline/deal_filters.h"
#include "services/pipeline/deal_rules.h"
#include "services/pipeline/pipeline_rules.h"
#include "services/pipeline/service_support.h"

namespace crm::pipeline {

PipelineService::PipelineService(PipelineStore& store, ProductStore& products,
                                 ContactsClient& contacts, fields::DefinitionStore& custom_fields,
                                 const auth::Authenticator& authenticator,
                                 server::Executor& executor, PipelineServiceOptions options)
    : store_(store),
      products_(products),
      contacts_(contacts),
      fields_api_(custom_fields, FieldsHooks()),
      rpcs_(authenticator, executor, v1::PipelineService::service_full_name()),
      options_(std::move(options)) {}

absl::Status PipelineService::CheckReferences(const server::Call& call, const v1::Deal& deal,
                                              const v1::Deal* before) {
  const std::string& authorization = call.authorization;
  const absl::Time deadline = call.deadline;
  if (!deal.contact().empty() && (before == nullptr || before->contact() != deal.contact())) {
    RETURN_IF_ERROR(contacts_.CheckExists(deal.contact(), "deal.contact", authorization, deadline));
  }
  if (!deal.company().empty() && (before == nullptr || before->company() != deal.company())) {
    RETURN_IF_ERROR(contacts_.CheckExists(deal.company(), "deal.company", authorization, deadline));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PipelineService::ListPipelines(grpc::CallbackServerContext* context,
                                                         const v1::ListPipelinesRequest* request,
                                                         v1::ListPipelinesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = api::QueryFingerprint("pipelines");
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto pipelines, store_.ListPipelines(caller.tenant, page.offset,
                                                          page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(pipelines, page, fingerprint));
    for (auto& p : pipelines) *response->add_pipelines() = std::move(p);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::GetPipeline(grpc::CallbackServerContext* context,
                                                       const v1::GetPipelineRequest* request,
                                                       v1::Pipeline* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kPipelinePrefix, "name"));
    ASSIGN_OR_RETURN(*response, store_.GetPipeline(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::CreatePipeline(grpc::CallbackServerContext* context,
                                                          const v1::CreatePipelineRequest* request,
                                                          v1::Pipeline* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    v1::Pipeline pipeline = request->pipeline();
    for (v1::Stage& stage : *pipeline.mutable_stages()) stage.clear_id();
    RETURN_IF_ERROR(ValidatePipeline(pipeline));
    RETURN_IF_ERROR(api::ValidateRequestId(request->request_id()));
    ASSIGN_OR_RETURN(*response,
                     store_.CreatePipeline(caller.tenant, pipeline, request->request_id(),
                                           caller.user, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::UpdatePipeline(grpc::CallbackServerContext* context,
                                                          const v1::UpdatePipelineRequest* request,
                                                          v1::Pipeline* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     ParseId(request->pipeline().name(), kPipelinePrefix, "pipeline.name"));
    const std::map<std::string, std::string> moves(request->stage_moves().begin(),
                                                   request->stage_moves().end());
    auto plan = [&](const v1::Pipeline& current)
        -> absl::StatusOr<std::pair<v1::Pipeline, std::map<std::string, std::string>>> {
      RETURN_IF_ERROR(CheckEtag(request->pipeline().etag(), current.etag()));
      v1::Pipeline next = request->pipeline();
      RETURN_IF_ERROR(ValidatePipeline(next));
      ASSIGN_OR_RETURN(auto removals, PlanStageRemovals(current, next, moves));
      return std::make_pair(std::move(next), std::move(removals));
    };
    ASSIGN_OR_RETURN(*response,
                     store_.UpdatePipeline(caller.tenant, id, caller.user, plan, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::CreateDeal(grpc::CallbackServerContext* context,
                                                      const v1::CreateDealRequest* request,
                                                      v1::Deal* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    v1::Deal deal = request->deal();
    if (deal.owner().empty()) deal.set_owner(caller.user);
    deal.set_probability_overridden(deal.probability_percent() != 0);
    RETURN_IF_ERROR(NormalizeDeal(deal, options_.default_currency));
    if (!caller.CanChangeOwnedBy(deal.owner())) {
      return absl::PermissionDeniedError("reps create deals for themselves only");
    }
    std::string pipeline_id;
    if (!deal.pipeline().empty()) {
      ASSIGN_OR_RETURN(pipeline_id, ParseId(deal.pipeline(), kPipelinePrefix, "deal.pipeline"));
    }
    RETURN_IF_ERROR(api::ValidateRequestId(request->request_id()));
    RETURN_IF_ERROR(CheckReferences(call, deal, nullptr));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_DEAL, "deal.custom_fields", deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          v1::Deal checked = deal;
          RETURN_IF_ERROR(fields::NormalizeValues(*checked.mutable_custom_fields(),
                                                  fields.definitions, /*creating=*/true, nullptr,
                                                  normalizers, "deal.custom_fields"));
          RETURN_IF_ERROR(
              CheckRelations(call, checked.custom_fields(), nullptr, "deal.custom_fields"));
          ASSIGN_OR_RETURN(*response,
                           store_.CreateDeal(caller.tenant, checked, pipeline_id, request->stage(),
                                             caller.user, request->request_id(), deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* PipelineService::GetDeal(grpc::CallbackServerContext* context,
                                                   const v1::GetDealRequest* request,
                                                   v1::Deal* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kDealPrefix, "name"));
    ASSIGN_OR_RETURN(*response, store_.GetDeal(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::ListDeals(grpc::CallbackServerContext* context,
                                                     const v1::ListDealsRequest* request,
                                                     v1::ListDealsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    const std::string fingerprint = api::QueryFingerprint(
        absl::StrCat("deals\x1f", request->filter(), "\x1f", request->order_by()));
    const absl::StatusOr<std::string> order =
        fields_api_.CompileOrderBy(caller.tenant, common::v1::OBJECT_TYPE_DEAL, DealSortColumns(),
                                   request->order_by(), "id", call.deadline);
    if (!order.ok()) return order.status();
    const std::string& order_sql = *order;
    // Creation order pages by id (stable under inserts); other orders page by offset.
    const bool keyset = order_sql == "id";
    ASSIGN_OR_RETURN(api::ListPosition at,
                     api::DecodeListPosition(request->page_token(), fingerprint, keyset));
    ASSIGN_OR_RETURN(
        api::SqlFilter filter,
        fields_api_.CompileFilter(caller.tenant, common::v1::OBJECT_TYPE_DEAL, DealFilterSchema(),
                                  request->filter(), 4, call.deadline));
    ASSIGN_OR_RETURN(auto page, store_.ListDeals(caller.tenant, at.after_id, at.offset, page_size,
                                                 filter, order_sql, call.deadline));
    if (page.more && !page.items.empty()) {
      response->set_next_page_token(api::NextListPageToken(
          keyset, page.items.back().name().substr(kDealPrefix.size()), at, page_size, fingerprint));
    }
    for (auto& deal : page.items) *response->add_deals() = std::move(deal);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::UpdateDeal(grpc::CallbackServerContext* context,
                                                      const v1::UpdateDealRequest* request,
                                                      v1::Deal* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->deal().name(), kDealPrefix, "deal.name"));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_DEAL, "deal.custom_fields", deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          auto mutate = [&](const v1::Deal& current,
                            const v1::Pipeline&) -> absl::StatusOr<v1::Deal> {
            RETURN_IF_ERROR(CheckEtag(request->deal().etag(), current.etag()));
            RETURN_IF_ERROR(CheckCanChange(caller, current.owner()));
            v1::Deal next = current;
            RETURN_IF_ERROR(ApplyDealMask(request->deal(), request->update_mask(), next));
            RETURN_IF_ERROR(NormalizeDeal(next, options_.default_currency));
            RETURN_IF_ERROR(fields::NormalizeValues(
                *next.mutable_custom_fields(), fields.definitions, /*creating=*/false,
                &current.custom_fields(), normalizers, "deal.custom_fields"));
            RETURN_IF_ERROR(CheckCanChange(caller, next.owner()));
            RETURN_IF_ERROR(CheckRelations(call, next.custom_fields(), &current.custom_fields(),
                                           "deal.custom_fields"));
            RETURN_IF_ERROR(CheckReferences(call, next, &current));
            return next;
          };
          ASSIGN_OR_RETURN(*response, store_.UpdateDeal(caller.tenant, id, caller.user, mutate,
                                                        deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* PipelineService::DeleteDeal(grpc::CallbackServerContext* context,
                                                      const v1::DeleteDealRequest* request,
                                                      google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kDealPrefix, "name"));
    auto check = [&](const v1::Deal& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner());
    };
    return store_.DeleteDeal(caller.tenant, id, caller.user, check, call.deadline);
  });
}

grpc::ServerUnaryReactor* PipelineService::MoveDeal(grpc::CallbackServerContext* context,
                                                    const v1::MoveDealRequest* request,
                                                    v1::Deal* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kDealPrefix, "name"));
    if (request->etag().empty()) {
      return api::InvalidField("etag", "required: moves are checked against the deal you read");
    }
    if (!ids::IsCanonicalUuid(request->stage())) {
      return api::InvalidField("stage", "required: the id of a stage of the deal's pipeline");
    }
    if (request->lost_reason().size() > 500) {
      return api::InvalidField("lost_reason", "up to 500 characters");
    }
    auto check = [&](const v1::Deal& current, const v1::Stage& from,
                     const v1::Stage* to) -> absl::Status {
      RETURN_IF_ERROR(CheckCanChange(caller, current.owner()));
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      if (to == nullptr) {
        return absl::FailedPreconditionError("stage: not a stage of the deal's pipeline");
      }
      return CheckMove(from, *to, request->lost_reason(), request->reopen());
    };
    const std::map<std::string, std::string> contracts(request->contract_numbers().begin(),
                                                       request->contract_numbers().end());
    for (const auto& [product, number] : contracts) {
      if (number.empty() || number.size() > 64) {
        return api::InvalidField(absl::StrCat("contract_numbers[", product, "]"),
                                 "1 to 64 characters");
      }
    }
    ASSIGN_OR_RETURN(*response,
                     store_.MoveDeal(caller.tenant, id, request->stage(), request->lost_reason(),
                                     contracts, caller.user, check, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::ListStageHistory(
    grpc::CallbackServerContext* context, const v1::ListStageHistoryRequest* request,
    v1::ListStageHistoryResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kDealPrefix, "name"));
    const std::string fingerprint = api::QueryFingerprint(absl::StrCat("history\x1f", id));
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto changes, store_.ListStageHistory(caller.tenant, id, page.offset,
                                                           page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(changes, page, fingerprint));
    for (auto& change : changes) *response->add_changes() = std::move(change);
    return absl::OkStatus();
  });
}

}  // namespace crm::pipeline
