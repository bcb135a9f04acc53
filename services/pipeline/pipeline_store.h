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
#include "crm/pipeline/v1/deal.pb.h"
#include "crm/pipeline/v1/pipeline.pb.h"

namespace crm::pipeline {

template <typename T>
struct PageResult {
  std::vector<T> items;
  bool more = false;
};

class PipelineStore final {
 public:
  PipelineStore(db::Pool& pool, events::Outbox& outbox) : pool_(pool), outbox_(outbox) {}

  // All pipelines of the tenant, the default first; creates the default one on first use.
  absl::StatusOr<std::vector<v1::Pipeline>> ListPipelines(const std::string& tenant,
                                                          absl::Time deadline);
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
  // open stage when empty), recording the first stage-history entry.
  absl::StatusOr<v1::Deal> CreateDeal(const std::string& tenant, const v1::Deal& deal,
                                      const std::string& pipeline_id, const std::string& stage_id,
                                      const std::string& creator, const std::string& request_id,
                                      absl::Time deadline);
  absl::StatusOr<v1::Deal> GetDeal(const std::string& tenant, const std::string& id,
                                   absl::Time deadline);
  absl::StatusOr<PageResult<v1::Deal>> ListDeals(const std::string& tenant,
                                                 const std::string& after_id, int page_size,
                                                 const api::SqlFilter& filter,
                                                 absl::Time deadline);
  absl::StatusOr<v1::Deal> UpdateDeal(
      const std::string& tenant, const std::string& id, const std::string& actor,
      const std::function<absl::StatusOr<v1::Deal>(const v1::Deal&, const v1::Pipeline&)>& mutate,
      absl::Time deadline);
  absl::Status DeleteDeal(const std::string& tenant, const std::string& id,
                          const std::string& actor,
                          const std::function<absl::Status(const v1::Deal&)>& check,
                          absl::Time deadline);
  // Moves a deal; `check` sees the deal and both stages (etag, permissions, move rules).
  absl::StatusOr<v1::Deal> MoveDeal(
      const std::string& tenant, const std::string& id, const std::string& stage_id,
      const std::string& lost_reason, const std::string& actor,
      const std::function<absl::Status(const v1::Deal&, const v1::Stage& from,
                                       const v1::Stage& to)>& check,
      absl::Time deadline);
  absl::StatusOr<std::vector<v1::StageChange>> ListStageHistory(const std::string& tenant,
                                                                const std::string& id,
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
};

}  // namespace crm::pipeline
