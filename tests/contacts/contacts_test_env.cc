#include "tests/contacts/contacts_test_env.h"

#include <gtest/gtest.h>

#include "common/testing/grpc_testing.h"
#include "common/testing/test_runtime.h"

extern const std::vector<crm::EmbeddedFile>& ContactsMigrations();

namespace crm::contacts::testing {

std::unique_ptr<ContactsTestEnv> ContactsTestEnv::Start() {
  auto env = std::make_unique<ContactsTestEnv>();
  auto database = crm::testing::TestDatabase::Create();
  if (!database.ok()) {
    ADD_FAILURE() << database.status();
    return nullptr;
  }
  env->database_ = std::make_unique<crm::testing::TestDatabase>(*std::move(database));
  ContactsServiceOptions options;
  options.default_settings.set_default_phone_region("US");
  options.default_settings.set_time_zone("UTC");
  options.default_settings.set_default_currency("USD");
  options.default_settings.set_fiscal_year_start_month(1);
  options.default_settings.set_renewal_lead_days(30);
  options.settings_cache_ttl = absl::ZeroDuration();  // tests change settings and expect them
  env->runtime_ = crm::testing::StartService(
      crm::testing::TestRuntimeOptions(*env->database_, "contacts", ContactsMigrations()),
      WireContacts(std::move(options)));
  if (env->runtime_ == nullptr) return nullptr;
  env->stub_ = v1::ContactsService::NewStub(crm::testing::LocalChannel(env->grpc_port()));
  env->events_stub_ =
      crm::common::v1::EventStream::NewStub(crm::testing::LocalChannel(env->grpc_port()));
  return env;
}

ContactsTestEnv::~ContactsTestEnv() {
  if (runtime_ != nullptr) runtime_->Stop();
}

}  // namespace crm::contacts::testing
