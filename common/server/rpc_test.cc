#include "common/server/rpc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "absl/synchronization/notification.h"
#include "common/testing/served_services.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm::server {
namespace {

using common::v1::Access;

// Every service served: the domain services and the event stream each backend serves.
std::vector<std::string> AllServices() {
  (void)crm::common::v1::SubscribeRequest::descriptor();  // keeps its file in the binary
  std::vector<std::string> services = {crm::common::v1::EventStream::service_full_name()};
  for (const auto& [name, backend] : crm::testing::ServedServices()) services.push_back(name);
  return services;
}

// What Rpcs refuses to start without, checked for every RPC we serve.
// Request types are unique within a service (Rpcs finds an RPC by its request type); the shared
// crm.common.v1 requests (custom fields) serve the same RPC in each service owning an object.
TEST(Rpcs, EveryRpcDeclaresWhoMayCallItAndHasItsOwnRequestType) {
  int methods = 0;
  for (const std::string& name : AllServices()) {
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    std::set<std::string> request_types;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      EXPECT_NE(method->options().GetExtension(common::v1::access), common::v1::ACCESS_UNSPECIFIED)
          << method->full_name() << " declares no (crm.common.v1.access)";
      EXPECT_TRUE(request_types.insert(method->input_type()->full_name()).second)
          << method->full_name() << " shares its request type";
      if (method->input_type()->file()->package() != service->file()->package()) {
        EXPECT_EQ(method->input_type()->file()->package(), "crm.common.v1")
            << method->full_name() << " takes another service's request";
      }
      ++methods;
    }
  }
  EXPECT_EQ(methods, 79);
}

TEST(Rpcs, KnowsEachRpcByItsRequestType) {
  auth::AuthOptions options;
  options.hs256_secret = "rpc-test-secret-0123456789abcdef-0123";
  auto authenticator = auth::Authenticator::Create(options);
  ASSERT_TRUE(authenticator.ok()) << authenticator.status();
  Executor executor(1);
  Rpcs tasks(**authenticator, executor, crm::tasks::v1::TasksService::service_full_name());
  EXPECT_EQ(tasks.AccessOf<crm::tasks::v1::GetTaskRequest>(), common::v1::ACCESS_MEMBER);
  EXPECT_EQ(tasks.AccessOf<crm::tasks::v1::CreateWebhookRequest>(), common::v1::ACCESS_ADMIN);
  // Another service's request: this service does not serve it, so nobody may call it here.
  EXPECT_EQ(tasks.AccessOf<crm::contacts::v1::GetContactRequest>(), common::v1::ACCESS_UNSPECIFIED);
  Rpcs events(**authenticator, executor, crm::common::v1::EventStream::service_full_name());
  EXPECT_EQ(events.AccessOf<crm::common::v1::SubscribeRequest>(), common::v1::ACCESS_SERVICE);
}

TEST(Rpcs, EachAccessLevelAdmitsItsRolesOnly) {
  auth::Principal rep{.user = "r", .tenant = "t", .rep = true};
  auth::Principal manager{.user = "m", .tenant = "t", .manager = true};
  auth::Principal admin{.user = "a", .tenant = "t", .admin = true};
  for (const auto* caller : {&rep, &manager, &admin}) {
    EXPECT_TRUE(CheckAccess(*caller, common::v1::ACCESS_MEMBER).ok());
    EXPECT_EQ(CheckAccess(*caller, common::v1::ACCESS_SERVICE).code(),
              absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(CheckAccess(*caller, common::v1::ACCESS_UNSPECIFIED).code(),
              absl::StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(CheckAccess(rep, common::v1::ACCESS_MANAGER).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckAccess(manager, common::v1::ACCESS_MANAGER).ok());
  EXPECT_TRUE(CheckAccess(admin, common::v1::ACCESS_MANAGER).ok());
  EXPECT_EQ(CheckAccess(rep, common::v1::ACCESS_ADMIN).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAccess(manager, common::v1::ACCESS_ADMIN).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(CheckAccess(admin, common::v1::ACCESS_ADMIN).ok());
}

TEST(Executor, RefusesNewWorkBeyondItsQueueButRunsWhatItTook) {
  absl::Notification release;
  std::atomic<int> ran{0};
  int accepted = 0;
  {
    Executor executor(1, /*max_queued=*/2);
    executor.Post([&] {
      release.WaitForNotification();
      ++ran;
    });
    // The thread may or may not have taken the first task yet: fill the queue until refused.
    while (accepted < 10 && executor.TryPost([&] { ++ran; })) ++accepted;
    EXPECT_GE(accepted, 1);
    EXPECT_LE(accepted, 2);
    executor.Post([&] { ++ran; });  // a step of an admitted stream is never refused
    release.Notify();
  }  // the destructor runs what was queued, then joins
  EXPECT_EQ(ran.load(), accepted + 2);
}

}  // namespace
}  // namespace crm::server
