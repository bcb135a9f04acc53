#include "common/api/field_mask.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "crm/common/v1/custom_fields.pb.h"
#include "crm/pipeline/v1/deal.pb.h"
#include "crm/tasks/v1/task.pb.h"

namespace crm::api {
namespace {

using crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const std::set<std::string> kWritable = {"title", "description", "due_time", "priority"};

tasks::v1::Task Current() {
  tasks::v1::Task task;
  task.set_title("Call Anna");
  task.set_description("about the renewal");
  task.mutable_due_time()->set_seconds(100);
  task.set_priority(tasks::v1::TASK_PRIORITY_HIGH);
  task.set_creator("alice");
  return task;
}

google::protobuf::FieldMask Mask(std::initializer_list<std::string> paths) {
  google::protobuf::FieldMask mask;
  for (const auto& p : paths) mask.add_paths(p);
  return mask;
}

TEST(ApplyUpdateMask, NoMaskCopiesTheFieldsThePatchSets) {
  tasks::v1::Task patch;
  patch.set_title("Call Anna again");
  tasks::v1::Task target = Current();
  auto applied = ApplyUpdateMask(patch, {}, kWritable, target);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_THAT(*applied, ElementsAre("title"));
  EXPECT_EQ(target.title(), "Call Anna again");
  EXPECT_EQ(target.description(), "about the renewal");
  EXPECT_TRUE(target.has_due_time());
}

TEST(ApplyUpdateMask, StarReplacesEveryWritableFieldAndNothingElse) {
  tasks::v1::Task patch;
  patch.set_title("Only a title");
  tasks::v1::Task target = Current();
  auto applied = ApplyUpdateMask(patch, Mask({"*"}), kWritable, target);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_THAT(*applied, UnorderedElementsAre("title", "description", "due_time", "priority"));
  EXPECT_EQ(target.title(), "Only a title");
  EXPECT_EQ(target.description(), "");
  EXPECT_FALSE(target.has_due_time());
  EXPECT_EQ(target.priority(), tasks::v1::TASK_PRIORITY_UNSPECIFIED);
  EXPECT_EQ(target.creator(), "alice");  // not writable, untouched
}

TEST(ApplyUpdateMask, AListedFieldThePatchLacksIsCleared) {
  tasks::v1::Task target = Current();
  auto applied = ApplyUpdateMask(tasks::v1::Task(), Mask({"due_time"}), kWritable, target);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_FALSE(target.has_due_time());
  EXPECT_EQ(target.title(), "Call Anna");
}

TEST(ApplyUpdateMask, MessageFieldsAreCopiedWhole) {
  pipeline::v1::Deal patch;
  patch.mutable_amount()->set_currency_code("EUR");
  pipeline::v1::Deal target;
  target.mutable_amount()->set_currency_code("USD");
  target.mutable_amount()->set_amount_minor(5);
  ASSERT_TRUE(ApplyUpdateMask(patch, Mask({"amount"}), {"amount"}, target).ok());
  EXPECT_EQ(target.amount().currency_code(), "EUR");
  EXPECT_EQ(target.amount().amount_minor(), 0);  // replaced, not merged
}

TEST(ApplyUpdateMask, AnUnwritablePathFailsBeforeAnythingIsCopied) {
  tasks::v1::Task patch;
  patch.set_title("changed");
  tasks::v1::Task target = Current();
  auto applied =
      ApplyUpdateMask(patch, Mask({"title", "creator"}), kWritable, target, {{"creator", "never"}});
  EXPECT_THAT(applied.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(applied.status().message()),
              HasSubstr("'creator' is not a writable field; never"));
  EXPECT_EQ(target.title(), "Call Anna");
  EXPECT_THAT(ApplyUpdateMask(patch, Mask({"no_such_field"}), kWritable, target).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ApplyUpdateMask, MapEntryPathsSetOrRemoveOneEntry) {
  common::v1::CustomFieldValues target;
  (*target.mutable_values())["keep"].set_text("k");
  (*target.mutable_values())["change"].set_text("old");
  (*target.mutable_values())["drop"].set_text("d");
  common::v1::CustomFieldValues patch;
  (*patch.mutable_values())["change"].set_text("new");
  (*patch.mutable_values())["ignored"].set_text("not in the mask");
  google::protobuf::FieldMask mask;
  mask.add_paths("values.change");
  mask.add_paths("values.drop");
  auto applied = ApplyUpdateMask(patch, mask, {"values"}, target);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_THAT(*applied, ElementsAre("values.change", "values.drop"));
  EXPECT_EQ(target.values().size(), 2u);
  EXPECT_EQ(target.values().at("keep").text(), "k");
  EXPECT_EQ(target.values().at("change").text(), "new");

  google::protobuf::FieldMask not_writable;
  not_writable.add_paths("values.change");
  EXPECT_THAT(ApplyUpdateMask(patch, not_writable, {}, target),
              StatusIs(absl::StatusCode::kInvalidArgument));
  google::protobuf::FieldMask empty_key;
  empty_key.add_paths("values.");
  EXPECT_THAT(ApplyUpdateMask(patch, empty_key, {"values"}, target),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace crm::api
