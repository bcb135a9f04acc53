#include "common/events/record_changes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crm/contacts/v1/contact.pb.h"

namespace crm::events {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(RecordChangesTest, PathsNameChangedFieldsAndEachChangedCustomField) {
  contacts::v1::Contact before;
  before.set_name("contacts/1");
  before.set_given_name("Ann");
  before.set_job_title("CTO");
  before.add_tags("vip");
  (*before.mutable_custom_fields())["tier"].set_option("gold");
  (*before.mutable_custom_fields())["arr"].set_number("10");
  (*before.mutable_custom_fields())["gone"].set_text("x");
  contacts::v1::Contact after = before;
  after.set_etag("2");  // bookkeeping: not a change
  after.set_job_title("CEO");
  (*after.mutable_custom_fields())["arr"].set_number("12");
  after.mutable_custom_fields()->erase("gone");
  (*after.mutable_custom_fields())["fresh"].set_boolean(true);

  const std::vector<std::string> paths = ChangedPaths(before, after);
  EXPECT_THAT(paths, ElementsAre("job_title", "custom_fields.arr", "custom_fields.fresh",
                                 "custom_fields.gone"));
  EXPECT_THAT(ChangedPaths(before, before), IsEmpty());

  contacts::v1::Contact previous;
  CopyPrevious(before, paths, &previous);
  EXPECT_EQ(previous.job_title(), "CTO");
  EXPECT_EQ(previous.given_name(), "");  // unchanged fields are left out
  EXPECT_THAT(previous.tags(), IsEmpty());
  EXPECT_EQ(previous.name(), "");
  EXPECT_EQ(previous.custom_fields().size(), 2u);  // "fresh" was unset before
  EXPECT_EQ(previous.custom_fields().at("arr").number(), "10");
  EXPECT_EQ(previous.custom_fields().at("gone").text(), "x");
}

TEST(RecordChangesTest, MapsCompareUnordered) {
  contacts::v1::Contact a;
  (*a.mutable_attributes())["x"] = "1";
  (*a.mutable_attributes())["y"] = "2";
  contacts::v1::Contact b;
  (*b.mutable_attributes())["y"] = "2";
  (*b.mutable_attributes())["x"] = "1";
  EXPECT_THAT(ChangedPaths(a, b), IsEmpty());
  (*b.mutable_attributes())["x"] = "3";
  EXPECT_THAT(ChangedPaths(a, b), ElementsAre("attributes"));
}

}  // namespace
}  // namespace crm::events
