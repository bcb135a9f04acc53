// An in-process contacts service on a fresh database, reached over real gRPC (port 0).
#pragma once

#include <memory>
#include <string>

#include "common/auth/authenticator.h"
#include "common/db/pool.h"
#include "common/events/event_stream_service.h"
#include "common/events/notifier.h"
#include "common/events/outbox.h"
#include "common/server/executor.h"
#include "common/server/server.h"
#include "common/server/wakeups.h"
#include "common/testing/pg_test_db.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/contacts_store.h"

namespace crm::contacts::testing {

class ContactsTestEnv {
 public:
  // Creates the database, applies migrations and starts the server; aborts the test on failure.
  static std::unique_ptr<ContactsTestEnv> Start();
  ~ContactsTestEnv();

  v1::ContactsService::Stub& stub() { return *stub_; }
  crm::common::v1::EventStream::Stub& events_stub() { return *events_stub_; }
  int grpc_port() const { return server_->grpc_port(); }
  const crm::testing::TestDatabase& database() const { return *database_; }
  db::Pool& pool() { return *pool_; }

 private:
  std::unique_ptr<crm::testing::TestDatabase> database_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<server::Executor> executor_;
  std::unique_ptr<server::Wakeups> wakeups_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<events::Outbox> outbox_;
  std::unique_ptr<ContactsStore> store_;
  std::unique_ptr<ActivityStore> activities_;
  std::unique_ptr<SegmentStore> segments_;
  std::unique_ptr<ContactsService> service_;
  std::unique_ptr<events::Notifier> notifier_;
  std::unique_ptr<events::EventStreamService> events_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::ContactsService::Stub> stub_;
  std::unique_ptr<crm::common::v1::EventStream::Stub> events_stub_;
};

}  // namespace crm::contacts::testing
