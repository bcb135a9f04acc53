#include "common/api/order_by.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crm::api {
namespace {

const std::map<std::string, std::string> kColumns = {{"create_time", "c.create_time"},
                                                     {"display_name", "lower(c.display_name)"}};

TEST(OrderByTest, KnownFieldsBecomeColumnsWithTheTiebreakLast) {
  auto sql = OrderBySql("display_name desc, create_time", kColumns, "c.id");
  ASSERT_TRUE(sql.ok()) << sql.status();
  EXPECT_EQ(*sql, "lower(c.display_name) DESC NULLS LAST, c.create_time ASC NULLS LAST, c.id");
}

TEST(OrderByTest, UnknownFieldsAreEchoedEscapedAndShort) {
  // Invalid UTF-8 and control bytes never reach the message (a proto3 string), nor a long echo.
  auto sql = OrderBySql("bad\xff\x01name" + std::string(100, 'x'), kColumns, "c.id");
  ASSERT_EQ(sql.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(sql.status().message());
  EXPECT_THAT(message, ::testing::HasSubstr("bad\\xff\\x01name"));
  EXPECT_LT(message.size(), 120u);
  EXPECT_EQ(OrderBySql("create_time sideways", kColumns, "c.id").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace crm::api
