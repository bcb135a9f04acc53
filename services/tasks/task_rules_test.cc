#include "services/tasks/task_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/db/sql_helpers.h"
#include "common/testing/status_matchers.h"
#include "services/tasks/task_filters.h"

namespace crm::tasks {
namespace {

using ::testing::ElementsAre;

v1::Task ValidTask() {
  v1::Task t;
  t.set_title("Call Anna");
  t.set_assignee("alice");
  return t;
}

TEST(TaskRulesTest, NormalizeFillsDefaults) {
  v1::Task t = ValidTask();
  t.set_title("  Call Anna  ");
  ASSERT_OK(NormalizeTask(t));
  EXPECT_EQ(t.title(), "Call Anna");
  EXPECT_EQ(t.priority(), v1::TASK_PRIORITY_NORMAL);
  EXPECT_EQ(t.status(), v1::TASK_STATUS_OPEN);
  EXPECT_EQ(t.time_zone(), "UTC");
}

TEST(TaskRulesTest, NormalizeNamesTheFieldAtFault) {
  v1::Task t = ValidTask();
  t.set_title("");
  EXPECT_THAT(NormalizeTask(t), crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  t = ValidTask();
  t.set_contact("people/1");
  EXPECT_NE(NormalizeTask(t).message().find("task.contact"), std::string::npos);
  t = ValidTask();
  t.set_time_zone("Mars/Olympus");
  EXPECT_NE(NormalizeTask(t).message().find("task.time_zone"), std::string::npos);
  t = ValidTask();
  t.mutable_due_time()->set_seconds(1000);
  t.mutable_reminder_time()->set_seconds(2000);
  EXPECT_NE(NormalizeTask(t).message().find("task.reminder_time"), std::string::npos);
  t = ValidTask();
  t.set_time_zone("/etc/passwd");
  EXPECT_NE(NormalizeTask(t).message().find("task.time_zone"), std::string::npos);
  t = ValidTask();
  t.set_assignee("");
  EXPECT_NE(NormalizeTask(t).message().find("task.assignee"), std::string::npos);
  t = ValidTask();
  t.set_title(std::string("a\0b", 3));
  EXPECT_NE(NormalizeTask(t).message().find("task.title"), std::string::npos);
  t = ValidTask();
  t.set_priority(static_cast<v1::TaskPriority>(42));
  EXPECT_NE(NormalizeTask(t).message().find("task.priority"), std::string::npos);
}

TEST(TaskRulesTest, MaskReportsOnlyRealChanges) {
  v1::Task current = ValidTask();
  ASSERT_OK(NormalizeTask(current));
  v1::Task patch;
  patch.set_title("Call Anna");  // same as before
  patch.set_status(v1::TASK_STATUS_DONE);
  v1::Task next = current;
  auto changed = ApplyTaskMask(patch, {}, next);
  ASSERT_OK(changed.status());
  EXPECT_THAT(*changed, ElementsAre("status"));
  EXPECT_EQ(next.status(), v1::TASK_STATUS_DONE);
}

TEST(TaskRulesTest, MaskClearsWithExplicitPathAndRefusesOutputFields) {
  v1::Task current = ValidTask();
  current.mutable_reminder_time()->set_seconds(100);
  google::protobuf::FieldMask mask;
  mask.add_paths("reminder_time");
  v1::Task next = current;
  auto changed = ApplyTaskMask(v1::Task(), mask, next);
  ASSERT_OK(changed.status());
  EXPECT_THAT(*changed, ElementsAre("reminder_time"));
  EXPECT_FALSE(next.has_reminder_time());
  mask.set_paths(0, "creator");
  EXPECT_THAT(ApplyTaskMask(v1::Task(), mask, next).status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TaskRulesTest, ReminderArmedFollowsStatusAndTime) {
  const absl::Time now = absl::FromUnixSeconds(1000);
  v1::Task before = ValidTask();
  before.set_status(v1::TASK_STATUS_OPEN);
  before.mutable_reminder_time()->set_seconds(2000);
  v1::Task after = before;
  EXPECT_TRUE(ReminderArmed(before, true, after, now));
  EXPECT_FALSE(ReminderArmed(before, false, after, now));  // fired already: stays fired
  after.set_status(v1::TASK_STATUS_DONE);
  EXPECT_FALSE(ReminderArmed(before, true, after, now));  // done cancels it
  after = before;
  after.mutable_reminder_time()->set_seconds(3000);
  EXPECT_TRUE(ReminderArmed(before, false, after, now));  // moved: re-armed
  v1::Task done = before;
  done.set_status(v1::TASK_STATUS_DONE);
  EXPECT_TRUE(ReminderArmed(done, false, before, now));  // reopened, still ahead
  EXPECT_FALSE(ReminderArmed(done, false, before, absl::FromUnixSeconds(5000)));  // passed
}

TEST(TaskFiltersTest, MeAndEnumsAndZones) {
  auto schema = TaskFilterSchema("alice", "Asia/Yerevan");
  ASSERT_OK(schema.status());
  auto filter =
      api::CompileFilter("assignee = \"me\" AND status = OPEN AND overdue = true", *schema, 4);
  ASSERT_OK(filter.status());
  EXPECT_THAT(filter->params, ElementsAre("alice", "open", "true"));
  EXPECT_THAT(api::CompileFilter("status = SLEEPING", *schema, 4).status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TaskFilterSchema("alice", "Asia/Yerevan'; DROP TABLE x; --").status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(TaskOrderBy("due_time desc").value(), "t.due_time DESC NULLS LAST, t.id");
  EXPECT_EQ(TaskOrderBy("").value(), "t.id");
  EXPECT_THAT(TaskOrderBy("colour").status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace crm::tasks
