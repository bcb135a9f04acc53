// The pipeline service's business rules as pure functions: the default sales process, stage
// edits, moves between stages, and forecast arithmetic in integer minor units.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "crm/pipeline/v1/deal.pb.h"
#include "crm/pipeline/v1/pipeline.pb.h"

namespace crm::pipeline {

inline constexpr absl::string_view kPipelinePrefix = "pipelines/";
inline constexpr absl::string_view kDealPrefix = "deals/";
inline constexpr int kMaxStages = 50;

// Salesforce's standard sales process (the seed lists nine of its ten stages): Prospecting 10 %,
// Qualification 10 %, Needs Analysis 20 %, Value Proposition 50 %, Id. Decision Makers 60 %,
// Perception Analysis 70 %, Proposal/Price Quote 75 %, Negotiation/Review 90 %, Closed Won 100 %,
// Closed Lost 0 %. Stage ids are left empty for the caller to assign.
v1::Pipeline DefaultPipeline();

// Checks a pipeline's name and stages: names 1..100 characters and unique, probabilities 0..100,
// kinds set, at most kMaxStages, at least one won and one lost stage. Errors name the field.
absl::Status ValidatePipeline(const v1::Pipeline& pipeline);

// For a stage edit: every stage of `current` missing from `next` must be mapped by `moves` to a
// stage of `next` (by id, or by display name for stages being added). Returns removed stage id ->
// target stage id or "name:<display name>".
absl::StatusOr<std::map<std::string, std::string>> PlanStageRemovals(
    const v1::Pipeline& current, const v1::Pipeline& next,
    const std::map<std::string, std::string>& moves);

// Whether a deal in `from` may move to `to`: a lost stage needs a reason (INVALID_ARGUMENT
// naming lost_reason); leaving a won or lost stage for an open one needs reopen
// (FAILED_PRECONDITION).
absl::Status CheckMove(const v1::Stage& from, const v1::Stage& to, absl::string_view lost_reason,
                       bool reopen);

// amount x probability / 100, rounded half away from zero, exact for any int64 amount.
int64_t WeightedAmountMinor(int64_t amount_minor, int32_t probability_percent);

std::string StageKindToText(v1::StageKind kind);
v1::StageKind StageKindFromText(absl::string_view text);
std::string ForecastCategoryToText(v1::ForecastCategory category);
v1::ForecastCategory ForecastCategoryFromText(absl::string_view text);

}  // namespace crm::pipeline
