// An in-process contacts service on a fresh database, reached over real gRPC (port 0), wired by
// the same function as the contacts binary (services/contacts/contacts_wiring.h).
#pragma once

#include <memory>
#include <string>

#include "common/db/pool.h"
#include "common/server/service_runtime.h"
#include "common/testing/pg_test_db.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "services/contacts/contacts_wiring.h"

namespace crm::contacts::testing {

class ContactsTestEnv {
 public:
  // Creates the database, applies migrations and starts the server; fails the test (and returns
  // nullptr) when it cannot.
  static std::unique_ptr<ContactsTestEnv> Start();
  ~ContactsTestEnv();

  v1::ContactsService::Stub& stub() { return *stub_; }
  crm::common::v1::EventStream::Stub& events_stub() { return *events_stub_; }
  int grpc_port() const { return runtime_->grpc_port(); }
  const crm::testing::TestDatabase& database() const { return *database_; }
  db::Pool& pool() { return runtime_->pool(); }

 private:
  std::unique_ptr<crm::testing::TestDatabase> database_;
  std::unique_ptr<server::ServiceRuntime> runtime_;
  std::unique_ptr<v1::ContactsService::Stub> stub_;
  std::unique_ptr<crm::common::v1::EventStream::Stub> events_stub_;
};

}  // namespace crm::contacts::testing
