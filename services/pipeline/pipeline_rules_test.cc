#include "services/pipeline/pipeline_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "common/testing/status_matchers.h"

namespace crm::pipeline {
namespace {

using crm::testing::StatusIs;

TEST(DefaultPipelineTest, IsSalesforcesStandardProcessInOrder) {
  const v1::Pipeline p = DefaultPipeline();
  ASSERT_EQ(p.stages_size(), 10);
  const std::vector<std::tuple<std::string, int, v1::ForecastCategory, v1::StageKind>> expected = {
      {"Prospecting", 10, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Qualification", 10, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Needs Analysis", 20, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Value Proposition", 50, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Id. Decision Makers", 60, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Perception Analysis", 70, v1::FORECAST_CATEGORY_BEST_CASE, v1::STAGE_KIND_OPEN},
      {"Proposal/Price Quote", 75, v1::FORECAST_CATEGORY_BEST_CASE, v1::STAGE_KIND_OPEN},
      {"Negotiation/Review", 90, v1::FORECAST_CATEGORY_COMMIT, v1::STAGE_KIND_OPEN},
      {"Closed Won", 100, v1::FORECAST_CATEGORY_CLOSED, v1::STAGE_KIND_WON},
      {"Closed Lost", 0, v1::FORECAST_CATEGORY_OMITTED, v1::STAGE_KIND_LOST}};
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(p.stages(i).display_name(), std::get<0>(expected[i]));
    EXPECT_EQ(p.stages(i).probability_percent(), std::get<1>(expected[i]));
    EXPECT_EQ(p.stages(i).forecast_category(), std::get<2>(expected[i]));
    EXPECT_EQ(p.stages(i).kind(), std::get<3>(expected[i]));
  }
  EXPECT_OK(ValidatePipeline(p));
}

TEST(ValidatePipelineTest, KeepsAWonAndALostStageAndUniqueNames) {
  v1::Pipeline p = DefaultPipeline();
  p.mutable_stages()->RemoveLast();  // no lost stage left
  EXPECT_THAT(ValidatePipeline(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = DefaultPipeline();
  p.mutable_stages()->DeleteSubrange(8, 1);  // no won stage left
  EXPECT_THAT(ValidatePipeline(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = DefaultPipeline();
  p.mutable_stages(1)->set_display_name(" prospecting ");
  EXPECT_THAT(ValidatePipeline(p), StatusIs(absl::StatusCode::kInvalidArgument));
  p = DefaultPipeline();
  p.mutable_stages(2)->set_probability_percent(101);
  EXPECT_THAT(ValidatePipeline(p), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlanStageRemovalsTest, RemovedStagesNeedATargetByIdOrNewName) {
  v1::Pipeline current = DefaultPipeline();
  for (int i = 0; i < current.stages_size(); ++i) {
    current.mutable_stages(i)->set_id("s" + std::to_string(i));
  }
  v1::Pipeline next = current;
  next.mutable_stages()->DeleteSubrange(1, 1);  // remove Qualification (s1)
  EXPECT_THAT(PlanStageRemovals(current, next, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  auto plan = PlanStageRemovals(current, next, {{"s1", "s0"}});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->at("s1"), "s0");
  v1::Stage* added = next.add_stages();
  added->set_display_name("Discovery");
  plan = PlanStageRemovals(current, next, {{"s1", "discovery"}});
  ASSERT_OK(plan);
  EXPECT_EQ(plan->at("s1"), "name:Discovery");
  EXPECT_THAT(PlanStageRemovals(current, next, {{"s1", "s1"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckMoveTest, LostNeedsAReasonAndClosedDealsNeedReopen) {
  const v1::Pipeline p = DefaultPipeline();
  const v1::Stage& open = p.stages(0);
  const v1::Stage& won = p.stages(8);
  const v1::Stage& lost = p.stages(9);
  EXPECT_OK(CheckMove(open, won, "", false));
  EXPECT_THAT(CheckMove(open, lost, " ", false), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(CheckMove(open, lost, "budget", false));
  EXPECT_THAT(CheckMove(won, open, "", false), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(CheckMove(won, open, "", true));
  EXPECT_OK(CheckMove(won, lost, "changed their mind", false));
}

TEST(WeightedAmountTest, IsExactIntegerArithmeticRoundedHalfAwayFromZero) {
  EXPECT_EQ(WeightedAmountMinor(12345, 75), 9259);  // 9258.75
  EXPECT_EQ(WeightedAmountMinor(10, 5), 1);         // 0.5 -> 1
  EXPECT_EQ(WeightedAmountMinor(-10, 5), -1);
  EXPECT_EQ(WeightedAmountMinor(99, 0), 0);
  EXPECT_EQ(WeightedAmountMinor(std::numeric_limits<int64_t>::max(), 100),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(WeightedAmountMinor(9'000'000'000'000'000'001, 90), 8'100'000'000'000'000'001);
}

}  // namespace
}  // namespace crm::pipeline
