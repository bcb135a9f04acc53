// SQL of products, line items, purchases (what won deals bought), cross-sell and the renewal
// work list. Writes append their events in the same transaction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/fields/write_guard.h"
#include "crm/pipeline/v1/deal.pb.h"
#include "crm/pipeline/v1/product.pb.h"

namespace crm::pipeline {

inline constexpr absl::string_view kProductPrefix = "products/";
inline constexpr absl::string_view kPurchasePrefix = "purchases/";

struct DuePurchase {
  std::string tenant;
  std::string id;
};

class ProductStore final {
 public:
  ProductStore(db::Pool& pool, events::Outbox& outbox) : pool_(pool), outbox_(outbox) {}

  // ALREADY_EXISTS when the SKU is taken; NOT_FOUND for complementary products
  // not in the tenant.
  absl::StatusOr<v1::Product> CreateProduct(const std::string& tenant, const v1::Product& product,
                                            const std::string& actor, absl::Time deadline,
                                            const fields::WriteGuard& guard = nullptr);
  absl::StatusOr<std::vector<v1::Product>> ListProducts(const std::string& tenant, int64_t offset,
                                                        int limit, absl::Time deadline);
  absl::StatusOr<v1::Product> UpdateProduct(
      const std::string& tenant, const std::string& id, const std::string& actor,
      const std::function<absl::StatusOr<v1::Product>(const v1::Product&)>& mutate,
      absl::Time deadline, const fields::WriteGuard& guard = nullptr);

  // Products by id (uuid) within `tx`; missing ones are absent from the map.
  absl::StatusOr<std::map<std::string, v1::Product>> LoadProducts(
      db::Transaction& tx, const std::string& tenant, const std::vector<std::string>& ids);
  // Replaces a deal's line items within `tx` (the deal row is locked by the caller).
  void QueueReplaceLineItems(db::Transaction& tx, const std::string& tenant,
                             const std::string& deal_id, const std::vector<v1::LineItem>& items);
  absl::StatusOr<std::vector<v1::LineItem>> LoadLineItems(db::Transaction& tx,
                                                          const std::string& tenant,
                                                          const std::string& deal_id);

  // Records what a deal that was just won bought, one purchase per line item, with contract
  // numbers given by product or generated; start today (UTC), subscriptions end after their term.
  absl::StatusOr<std::vector<v1::Purchase>> RecordPurchases(
      db::Transaction& tx, const std::string& tenant, const v1::Deal& deal,
      const std::map<std::string, std::string>& contract_numbers, absl::Time now);

  // `parent_column` is deal_id, contact_id or company_id.
  absl::StatusOr<std::vector<v1::Purchase>> ListPurchases(const std::string& tenant,
                                                          const std::string& parent_column,
                                                          const std::string& parent_id,
                                                          int64_t offset, int limit,
                                                          absl::Time deadline);
  absl::StatusOr<std::vector<v1::CrossSellSuggestion>> SuggestCrossSell(
      const std::string& tenant, const std::string& customer_column, const std::string& customer_id,
      absl::Time deadline);

  // Subscriptions due for a renewal (end date within their tenant's lead time, none created
  // yet), across tenants.
  absl::StatusOr<std::vector<DuePurchase>> DuePurchases(int default_lead_days, int limit,
                                                        absl::Time deadline);
  // The purchase locked for its renewal, or nullopt when another replica has it or it is done.
  absl::StatusOr<std::optional<v1::Purchase>> LockForRenewal(db::Transaction& tx,
                                                             const std::string& tenant,
                                                             const std::string& id);
  void QueueSetRenewal(db::Transaction& tx, const std::string& tenant, const std::string& id,
                       const std::string& deal_id);

 private:
  db::Pool& pool_;
  events::Outbox& outbox_;
};

}  // namespace crm::pipeline
