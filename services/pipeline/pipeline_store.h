// All SQL of the pipeline service: pipelines with their stages, deals, and the stage history.
// Every write appends its event to the outbox in the same transaction.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/api/filter.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/fields/unique_values.h"
#include "common/fields/write_guard.h"
#include "crm/pipeline/v1/deal.pb.h"
#include "crm/pipeline/v1/pipeline.pb.h"
#include "services/pipeline/product_store.h"

namespace crm::pipeline {

template <typename T>
struct PageResult {
  std::vector<T> items;
  bool more = false;
};

class PipelineStore final {
 public:
  // Deleted deals free their unique custom field values in `unique`.
  PipelineStore(db::Pool& pool, events::Outbox& outbox, ProductStore& products,
                const fields::UniqueValues& unique)
      : pool_(pool), outbox_(outbox), products_(products), unique_(unique) {}

  // All pipelines of the tenant, the default first; creates the default one on first use.
  // Up to `limit` pipelines from `offset`, the default pipeline first.
  absl::StatusOr<std::vector<v1::Pipeline>> ListPipelines(const std::string& tenant, int64_t offset,
                                                          int limit, absl::Time deadline);
  absl::StatusOr<v1::Pipeline> GetPipeline(const std::string& tenant, const std::string& id,
                                           absl::Time deadline);
  absl::StatusOr<v1::Pipeline> CreatePipeline(const std::string& tenant,
                                              const v1::Pipeline& pipeline,
                                              const std::string& request_id,
                                              const std::string& actor, absl::Time deadline);
  // Replaces name and stages. `plan` is called with the locked current pipeline and returns the
  // next one and, for removed stage ids, their target (an id or "name:<new stage name>"). Deals
  // in removed stages move to their targets (with history and events) in the same transaction.
  using StagePlan =
      std::function<absl::StatusOr<std::pair<v1::Pipeline, std::map<std::string, std::string>>>(
          const v1::Pipeline& current)>;
  absl::StatusOr<v1::Pipeline> UpdatePipeline(const std::string& tenant, const std::string& id,
                                              const std::string& actor, const StagePlan& plan,
                                              absl::Time deadline);

  // Creates a deal in `pipeline_id` (the default pipeline when empty) at `stage_id` (the first
  // open stage when empty), recording the first stage-history entry. `guard` runs once the deal
  // is written (the custom field checks).
  absl::StatusOr<v1::Deal> CreateDeal(const std::string& tenant, const v1::Deal& deal,
                                      const std::string& pipeline_id, const std::string& stage_id,
                                      const std::string& creator, const std::string& request_id,
                                      absl::Time deadline,
                                      const fields::WriteGuard& guard = nullptr);
  // The same inside the caller's transaction (renewals create deals with other writes).
  absl::StatusOr<v1::Deal> CreateDealIn(db::Transaction& tx, const std::string& tenant,
                                        const v1::Deal& deal, const std::string& pipeline_id,
                                        const std::string& stage_id, const std::string& creator,
                                        const std::string& request_id,
                                        const fields::WriteGuard& guard = nullptr);
  // Replaces the deal's products (validated: known products, the deal's currency) and sets its
  // amount to their sum. `check` sees the deal first (etag, permissions).
  absl::StatusOr<v1::Deal> SetLineItems(const std::string& tenant, const std::string& id,
                                        std::vector<v1::LineItem> items, const std::string& actor,
                                        const std::function<absl::Status(const v1::Deal&)>& check,
                                        absl::Time deadline);
  absl::StatusOr<v1::Deal> GetDeal(const std::string& tenant, const std::string& id,
                                   absl::Time deadline);
  // Keyset paging by id (`after_id`) when `order_sql` is "id"; otherwise ordered by `order_sql`
  // from `offset`.
  absl::StatusOr<PageResult<v1::Deal>> ListDeals(const std::string& tenant,
                                                 const std::string& after_id, int64_t offset,
                                                 int page_size, const api::SqlFilter& filter,
                                                 const std::string& order_sql, absl::Time deadline);
  absl::StatusOr<v1::Deal> UpdateDeal(
      const std::string& tenant, const std::string& id, const std::string& actor,
      const std::function<absl::StatusOr<v1::Deal>(const v1::Deal&, const v1::Pipeline&)>& mutate,
      absl::Time deadline, const fields::WriteGuard& guard = nullptr);
  absl::Status DeleteDeal(const std::string& tenant, const std::string& id,
                          const std::string& actor,
                          const std::function<absl::Status(const v1::Deal&)>& check,
                          absl::Time deadline);
  // Moves a deal; `check` sees the deal and both stages (etag, permissions, move rules).
  // Moving into a won stage records the deal's purchases (contracts by product, or generated).
  absl::StatusOr<v1::Deal> MoveDeal(
      const std::string& tenant, const std::string& id, const std::string& stage_id,
      const std::string& lost_reason, const std::map<std::string, std::string>& contract_numbers,
      const std::string& actor,
      const std::function<absl::Status(const v1::Deal&, const v1::Stage& from,
                                       const v1::Stage* to)>& check,
      absl::Time deadline);
  // Contacts events: deals and purchases of `loser` now point at `winner`; deals of a deleted
  // contact are flagged contact_missing. Each changed deal gets a DealUpdated event.
  absl::Status RepointContact(db::Transaction& tx, const std::string& tenant,
                              const std::string& loser, const std::string& winner);
  absl::Status FlagMissingContact(db::Transaction& tx, const std::string& tenant,
                                  const std::string& contact);
  // Appends a deal event written by a collaborator (the renewal job) within `tx`.
  void AppendEvent(db::Transaction& tx, const std::string& tenant, const std::string& deal_name,
                   const google::protobuf::Message& payload);
  absl::StatusOr<std::vector<v1::StageChange>> ListStageHistory(const std::string& tenant,
                                                                const std::string& id,
                                                                int64_t offset, int limit,
                                                                absl::Time deadline);

 private:
  // Creates the tenant's default pipeline if it has none (safe under concurrency).
  absl::Status EnsureDefaultPipeline(db::Transaction& tx, const std::string& tenant);
  absl::StatusOr<v1::Pipeline> LoadPipeline(db::Transaction& tx, const std::string& tenant,
                                            const std::string& id, bool lock);
  // Appends the stage change and its DealMoved event.
  void RecordMove(db::Transaction& tx, const std::string& tenant, const v1::Deal& deal,
                  const v1::Stage* from, const v1::Stage& to, const std::string& actor,
                  absl::Time when);

  db::Pool& pool_;
  events::Outbox& outbox_;
  ProductStore& products_;
  const fields::UniqueValues& unique_;
};

}  // namespace crm::pipeline
