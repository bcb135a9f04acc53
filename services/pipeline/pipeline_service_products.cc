// PipelineService: products, line items, purchases and cross-sell.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/field_mask.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "common/server/server.h"
#include "services/pipeline/pipeline_rules.h"
#include "services/pipeline/pipeline_service.h"
#include "services/pipeline/service_support.h"

namespace crm::pipeline {
namespace {

absl::Status ValidateProduct(v1::Product& p) {
  if (p.sku().empty() || p.sku().size() > 64 ||
      p.sku().find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") !=
          std::string::npos) {
    return api::InvalidField("product.sku", "1-64 letters, digits, '-', '_' or '.'");
  }
  if (p.display_name().empty() || p.display_name().size() > 200) {
    return api::InvalidField("product.display_name", "required, up to 200 characters");
  }
  const std::string& currency = p.list_price().currency_code();
  if (currency.size() != 3 ||
      !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return api::InvalidField("product.list_price.currency_code", "an ISO 4217 code such as USD");
  }
  if (p.list_price().amount_minor() < 0) {
    return api::InvalidField("product.list_price.amount_minor", "must not be negative");
  }
  if (p.billing() == v1::BILLING_TYPE_SUBSCRIPTION) {
    if (p.term_months() < 1 || p.term_months() > 120) {
      return api::InvalidField("product.term_months", "subscriptions run 1..120 months");
    }
  } else if (p.billing() == v1::BILLING_TYPE_ONE_TIME) {
    p.set_term_months(0);
  } else {
    return api::InvalidField("product.billing", "required: ONE_TIME or SUBSCRIPTION");
  }
  if (p.complementary_products_size() > 20) {
    return api::InvalidField("product.complementary_products", "at most 20");
  }
  for (int i = 0; i < p.complementary_products_size(); ++i) {
    auto id = ParseId(p.complementary_products(i), kProductPrefix,
                      absl::StrCat("product.complementary_products[", i, "]"));
    if (!id.ok()) return id.status();
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* PipelineService::SetLineItems(grpc::CallbackServerContext* context,
                                                        const v1::SetLineItemsRequest* request,
                                                        v1::Deal* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), kDealPrefix, "name"));
    if (request->line_items_size() > 100) return api::InvalidField("line_items", "at most 100");
    std::vector<v1::LineItem> items(request->line_items().begin(), request->line_items().end());
    for (size_t i = 0; i < items.size(); ++i) {
      RETURN_IF_ERROR(
          ParseId(items[i].product(), kProductPrefix, absl::StrCat("line_items[", i, "].product"))
              .status());
      if (items[i].quantity() < 1 || items[i].quantity() > 1000000) {
        return api::InvalidField(absl::StrCat("line_items[", i, "].quantity"), "1..1000000");
      }
      if (items[i].has_unit_price() && items[i].unit_price().amount_minor() < 0) {
        return api::InvalidField(absl::StrCat("line_items[", i, "].unit_price"),
                                 "must not be negative");
      }
    }
    auto check = [&](const v1::Deal& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner());
    };
    ASSIGN_OR_RETURN(*response, store_.SetLineItems(caller.tenant, id, std::move(items),
                                                    caller.user, check, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::CreateProduct(grpc::CallbackServerContext* context,
                                                         const v1::CreateProductRequest* request,
                                                         v1::Product* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    v1::Product product = request->product();
    RETURN_IF_ERROR(ValidateProduct(product));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_PRODUCT, "product.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          v1::Product checked = product;
          RETURN_IF_ERROR(fields::NormalizeValues(*checked.mutable_custom_fields(),
                                                  fields.definitions, /*creating=*/true, nullptr,
                                                  normalizers, "product.custom_fields"));
          RETURN_IF_ERROR(
              CheckRelations(call, checked.custom_fields(), nullptr, "product.custom_fields"));
          ASSIGN_OR_RETURN(*response, products_.CreateProduct(caller.tenant, checked, caller.user,
                                                              call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* PipelineService::ListProducts(grpc::CallbackServerContext* context,
                                                        const v1::ListProductsRequest* request,
                                                        v1::ListProductsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = api::QueryFingerprint("products");
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto products, products_.ListProducts(caller.tenant, page.offset,
                                                           page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(products, page, fingerprint));
    for (auto& p : products) *response->add_products() = std::move(p);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::UpdateProduct(grpc::CallbackServerContext* context,
                                                         const v1::UpdateProductRequest* request,
                                                         v1::Product* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     ParseId(request->product().name(), kProductPrefix, "product.name"));
    const fields::Normalizers normalizers = fields::StandardNormalizers("");
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_PRODUCT, "product.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const fields::WriteGuard& guard) -> absl::Status {
          auto mutate = [&](const v1::Product& current) -> absl::StatusOr<v1::Product> {
            RETURN_IF_ERROR(CheckEtag(request->product().etag(), current.etag()));
            v1::Product next = current;
            static const auto* writable =
                new std::set<std::string>{"display_name", "list_price", "term_months",
                                          "complementary_products", "custom_fields"};
            RETURN_IF_ERROR(
                api::ApplyUpdateMask(request->product(), request->update_mask(), *writable, next)
                    .status());
            RETURN_IF_ERROR(ValidateProduct(next));
            RETURN_IF_ERROR(fields::NormalizeValues(
                *next.mutable_custom_fields(), fields.definitions, /*creating=*/false,
                &current.custom_fields(), normalizers, "product.custom_fields"));
            RETURN_IF_ERROR(CheckRelations(call, next.custom_fields(), &current.custom_fields(),
                                           "product.custom_fields"));
            return next;
          };
          ASSIGN_OR_RETURN(*response, products_.UpdateProduct(caller.tenant, id, caller.user,
                                                              mutate, call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* PipelineService::ListPurchases(grpc::CallbackServerContext* context,
                                                         const v1::ListPurchasesRequest* request,
                                                         v1::ListPurchasesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    std::string column;
    std::string id;
    if (absl::StartsWith(request->parent(), kDealPrefix)) {
      column = "deal_id";
      ASSIGN_OR_RETURN(id, ParseId(request->parent(), kDealPrefix, "parent"));
    } else if (absl::StartsWith(request->parent(), "contacts/")) {
      column = "contact_id";
      ASSIGN_OR_RETURN(id, ParseId(request->parent(), "contacts/", "parent"));
    } else {
      column = "company_id";
      ASSIGN_OR_RETURN(id, ParseId(request->parent(), "companies/", "parent"));
    }
    const std::string fingerprint =
        api::QueryFingerprint(absl::StrCat("purchases\x1f", request->parent()));
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto purchases, products_.ListPurchases(caller.tenant, column, id, page.offset,
                                                             page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(purchases, page, fingerprint));
    for (auto& p : purchases) *response->add_purchases() = std::move(p);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* PipelineService::SuggestCrossSell(
    grpc::CallbackServerContext* context, const v1::SuggestCrossSellRequest* request,
    v1::SuggestCrossSellResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const bool contact = absl::StartsWith(request->customer(), "contacts/");
    ASSIGN_OR_RETURN(std::string id, ParseId(request->customer(),
                                             contact ? "contacts/" : "companies/", "customer"));
    ASSIGN_OR_RETURN(auto suggestions,
                     products_.SuggestCrossSell(
                         caller.tenant, contact ? "contact_id" : "company_id", id, call.deadline));
    // No suggestions for a customer that is not the caller's: NOT_FOUND, as the customer is.
    if (suggestions.empty()) {
      RETURN_IF_ERROR(contacts_.CheckExists(request->customer(), "customer", call.authorization,
                                            call.deadline));
    }
    for (auto& s : suggestions) *response->add_suggestions() = std::move(s);
    return absl::OkStatus();
  });
}

}  // namespace crm::pipeline
