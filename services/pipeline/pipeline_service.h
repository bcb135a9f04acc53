// gRPC adapter of the pipeline service: authenticates, applies the rules, checks references in
// the contacts service, calls the store, converts errors.
#pragma once

#include <string>

#include "common/auth/authenticator.h"
#include "common/fields/custom_field_service.h"
#include "common/fields/custom_fields_api.h"
#include "common/server/executor.h"
#include "common/server/rpc.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "services/pipeline/contacts_client.h"
#include "services/pipeline/pipeline_store.h"
#include "services/pipeline/product_store.h"

namespace crm::pipeline {

struct PipelineServiceOptions {
  // For deals created without a currency (until tenant settings arrive by event).
  std::string default_currency = "USD";
};

class PipelineService final
    : public fields::ServesCustomFields<v1::PipelineService::CallbackService> {
 public:
  PipelineService(PipelineStore& store, ProductStore& products, ContactsClient& contacts,
                  fields::DefinitionStore& custom_fields, const auth::Authenticator& authenticator,
                  server::Executor& executor, PipelineServiceOptions options);

  grpc::ServerUnaryReactor* ListPipelines(grpc::CallbackServerContext* context,
                                          const v1::ListPipelinesRequest* request,
                                          v1::ListPipelinesResponse* response) override;
  grpc::ServerUnaryReactor* GetPipeline(grpc::CallbackServerContext* context,
                                        const v1::GetPipelineRequest* request,
                                        v1::Pipeline* response) override;
  grpc::ServerUnaryReactor* CreatePipeline(grpc::CallbackServerContext* context,
                                           const v1::CreatePipelineRequest* request,
                                           v1::Pipeline* response) override;
  grpc::ServerUnaryReactor* UpdatePipeline(grpc::CallbackServerContext* context,
                                           const v1::UpdatePipelineRequest* request,
                                           v1::Pipeline* response) override;
  grpc::ServerUnaryReactor* CreateDeal(grpc::CallbackServerContext* context,
                                       const v1::CreateDealRequest* request,
                                       v1::Deal* response) override;
  grpc::ServerUnaryReactor* GetDeal(grpc::CallbackServerContext* context,
                                    const v1::GetDealRequest* request, v1::Deal* response) override;
  grpc::ServerUnaryReactor* ListDeals(grpc::CallbackServerContext* context,
                                      const v1::ListDealsRequest* request,
                                      v1::ListDealsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateDeal(grpc::CallbackServerContext* context,
                                       const v1::UpdateDealRequest* request,
                                       v1::Deal* response) override;
  grpc::ServerUnaryReactor* DeleteDeal(grpc::CallbackServerContext* context,
                                       const v1::DeleteDealRequest* request,
                                       google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* MoveDeal(grpc::CallbackServerContext* context,
                                     const v1::MoveDealRequest* request,
                                     v1::Deal* response) override;
  grpc::ServerUnaryReactor* SetLineItems(grpc::CallbackServerContext* context,
                                         const v1::SetLineItemsRequest* request,
                                         v1::Deal* response) override;
  grpc::ServerUnaryReactor* CreateProduct(grpc::CallbackServerContext* context,
                                          const v1::CreateProductRequest* request,
                                          v1::Product* response) override;
  grpc::ServerUnaryReactor* ListProducts(grpc::CallbackServerContext* context,
                                         const v1::ListProductsRequest* request,
                                         v1::ListProductsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateProduct(grpc::CallbackServerContext* context,
                                          const v1::UpdateProductRequest* request,
                                          v1::Product* response) override;
  grpc::ServerUnaryReactor* ListPurchases(grpc::CallbackServerContext* context,
                                          const v1::ListPurchasesRequest* request,
                                          v1::ListPurchasesResponse* response) override;
  grpc::ServerUnaryReactor* SuggestCrossSell(grpc::CallbackServerContext* context,
                                             const v1::SuggestCrossSellRequest* request,
                                             v1::SuggestCrossSellResponse* response) override;
  grpc::ServerUnaryReactor* ListStageHistory(grpc::CallbackServerContext* context,
                                             const v1::ListStageHistoryRequest* request,
                                             v1::ListStageHistoryResponse* response) override;

  // The custom field RPCs come from fields::ServesCustomFields.

 private:
  const server::Rpcs& rpcs() const override { return rpcs_; }
  fields::CustomFieldsApi& fields_api() override { return fields_api_; }

  // The custom field rules of deals and products: phones in international form (this service
  // does not know the tenant's region), relations to contacts and companies.
  static fields::CustomFieldsApi::Hooks FieldsHooks();
  // NOT_FOUND naming "<field>.<key>" for a relation value (not in `before`) that names no record
  // the caller can see in the contacts service.
  absl::Status CheckRelations(const server::Call& call, const fields::Values& values,
                              const fields::Values* before, absl::string_view field);
  // Checks the deal's contact and company in the contacts service with the caller's token.
  absl::Status CheckReferences(const server::Call& call, const v1::Deal& deal,
                               const v1::Deal* before);

  PipelineStore& store_;
  ProductStore& products_;
  ContactsClient& contacts_;
  fields::CustomFieldsApi fields_api_;
  const server::Rpcs rpcs_;
  const PipelineServiceOptions options_;
};

}  // namespace crm::pipeline
