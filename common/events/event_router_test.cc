#include "common/events/event_router.h"

#include <gtest/gtest.h>

#include "crm/contacts/v1/contacts_events.pb.h"

namespace crm::events {
namespace {

namespace cv1 = crm::contacts::v1;

absl::Status Ignore(db::Transaction&, const crm::common::v1::Event&, const auto&) {
  return absl::OkStatus();
}

TEST(EventRouter, SubscribesToTheTypesOfItsHandlersNamedByTheirDescriptors) {
  EventRouter router;
  router.On<cv1::ContactsMerged>(Ignore<cv1::ContactsMerged>);
  router.On<cv1::ContactCreated>(Ignore<cv1::ContactCreated>);
  EXPECT_EQ(router.types(), (std::vector<std::string>{"crm.contacts.v1.ContactCreated",
                                                      "crm.contacts.v1.ContactsMerged"}));
}

TEST(EventRouter, ARouterWithoutHandlersFollowsNothing) {
  EXPECT_TRUE(EventRouter().types().empty());
}

}  // namespace
}  // namespace crm::events
