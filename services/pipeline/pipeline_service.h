// gRPC adapter of the pipeline service: authenticates, applies the rules, checks references in
// the contacts service, calls the store, converts errors.
#pragma once

#include <string>

#include "common/auth/authenticator.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "services/pipeline/contacts_client.h"
#include "services/pipeline/pipeline_store.h"
#include "services/pipeline/product_store.h"

namespace crm::pipeline {

struct PipelineServiceOptions {
  // For deals created without a currency (until tenant settings arrive by event).
  std::string default_currency = "USD";
};

class PipelineService final : public v1::PipelineService::Service {
 public:
  PipelineService(PipelineStore& store, ProductStore& products, ContactsClient& contacts,
                  const auth::Authenticator& authenticator, PipelineServiceOptions options);

  grpc::Status ListPipelines(grpc::ServerContext* context, const v1::ListPipelinesRequest* request,
                             v1::ListPipelinesResponse* response) override;
  grpc::Status GetPipeline(grpc::ServerContext* context, const v1::GetPipelineRequest* request,
                           v1::Pipeline* response) override;
  grpc::Status CreatePipeline(grpc::ServerContext* context,
                              const v1::CreatePipelineRequest* request,
                              v1::Pipeline* response) override;
  grpc::Status UpdatePipeline(grpc::ServerContext* context,
                              const v1::UpdatePipelineRequest* request,
                              v1::Pipeline* response) override;
  grpc::Status CreateDeal(grpc::ServerContext* context, const v1::CreateDealRequest* request,
                          v1::Deal* response) override;
  grpc::Status GetDeal(grpc::ServerContext* context, const v1::GetDealRequest* request,
                       v1::Deal* response) override;
  grpc::Status ListDeals(grpc::ServerContext* context, const v1::ListDealsRequest* request,
                         v1::ListDealsResponse* response) override;
  grpc::Status UpdateDeal(grpc::ServerContext* context, const v1::UpdateDealRequest* request,
                          v1::Deal* response) override;
  grpc::Status DeleteDeal(grpc::ServerContext* context, const v1::DeleteDealRequest* request,
                          google::protobuf::Empty* response) override;
  grpc::Status MoveDeal(grpc::ServerContext* context, const v1::MoveDealRequest* request,
                        v1::Deal* response) override;
  grpc::Status SetLineItems(grpc::ServerContext* context, const v1::SetLineItemsRequest* request,
                            v1::Deal* response) override;
  grpc::Status CreateProduct(grpc::ServerContext* context, const v1::CreateProductRequest* request,
                             v1::Product* response) override;
  grpc::Status ListProducts(grpc::ServerContext* context, const v1::ListProductsRequest* request,
                            v1::ListProductsResponse* response) override;
  grpc::Status UpdateProduct(grpc::ServerContext* context, const v1::UpdateProductRequest* request,
                             v1::Product* response) override;
  grpc::Status ListPurchases(grpc::ServerContext* context, const v1::ListPurchasesRequest* request,
                             v1::ListPurchasesResponse* response) override;
  grpc::Status SuggestCrossSell(grpc::ServerContext* context,
                                const v1::SuggestCrossSellRequest* request,
                                v1::SuggestCrossSellResponse* response) override;
  grpc::Status ListStageHistory(grpc::ServerContext* context,
                                const v1::ListStageHistoryRequest* request,
                                v1::ListStageHistoryResponse* response) override;

 private:
  // Checks the deal's contact and company in the contacts service with the caller's token.
  absl::Status CheckReferences(grpc::ServerContext& context, const v1::Deal& deal,
                               const v1::Deal* before, absl::Time deadline);

  PipelineStore& store_;
  ProductStore& products_;
  ContactsClient& contacts_;
  const auth::Authenticator& authenticator_;
  const PipelineServiceOptions options_;
};

}  // namespace crm::pipeline
