#include "tests/contacts/contacts_test_env.h"

#include <gtest/gtest.h>

#include "common/db/migrations.h"
#include "common/testing/grpc_testing.h"

extern const std::vector<crm::EmbeddedFile>& ContactsMigrations();
extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

namespace crm::contacts::testing {

std::unique_ptr<ContactsTestEnv> ContactsTestEnv::Start() {
  auto env = std::make_unique<ContactsTestEnv>();
  auto database = crm::testing::TestDatabase::Create();
  if (!database.ok()) {
    ADD_FAILURE() << database.status();
    return nullptr;
  }
  env->database_ = std::make_unique<crm::testing::TestDatabase>(*std::move(database));
  const std::string conninfo = env->database_->ConnInfo("contacts");
  std::vector<EmbeddedFile> migrations = ContactsMigrations();
  migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
  if (absl::Status s = db::Migrate(conninfo, "contacts", migrations); !s.ok()) {
    ADD_FAILURE() << s;
    return nullptr;
  }
  server::ServerOptions server_options;
  server_options.service_name = "contacts";
  env->server_ = std::make_unique<server::Server>(server_options);
  db::PoolOptions pool_options;
  pool_options.conninfo = conninfo;
  pool_options.size = 8;
  env->pool_ = std::make_unique<db::Pool>(pool_options, &env->server_->registry());
  auth::AuthOptions auth_options;
  auth_options.hs256_secret = crm::testing::kTestJwtSecret;
  auth_options.service_secret = crm::testing::kTestServiceSecret;
  env->authenticator_ = *auth::Authenticator::Create(auth_options);
  env->executor_ = std::make_unique<server::Executor>(4);
  env->wakeups_ = std::make_unique<server::Wakeups>(*env->executor_);
  env->notifier_ = std::make_unique<events::Notifier>(conninfo, events::OutboxChannel("contacts"));
  server::Wakeups* wakeups = env->wakeups_.get();
  env->notifier_->OnChange([wakeups] { wakeups->Signal(); });
  env->outbox_ =
      std::make_unique<events::Outbox>("contacts", &env->server_->registry(), env->notifier_.get());
  env->store_ = std::make_unique<ContactsStore>(*env->pool_, *env->outbox_);
  ContactsServiceOptions options;
  options.default_settings.set_default_phone_region("US");
  options.default_settings.set_time_zone("UTC");
  options.default_settings.set_default_currency("USD");
  options.default_settings.set_fiscal_year_start_month(1);
  options.default_settings.set_renewal_lead_days(30);
  options.settings_cache_ttl = absl::ZeroDuration();  // tests change settings and expect them
  env->activities_ = std::make_unique<ActivityStore>(*env->pool_, *env->outbox_);
  env->segments_ = std::make_unique<SegmentStore>(*env->pool_, *env->outbox_);
  env->service_ =
      std::make_unique<ContactsService>(*env->store_, *env->activities_, *env->segments_,
                                        *env->authenticator_, *env->executor_, options);
  env->notifier_->Start();
  env->events_ = std::make_unique<events::EventStreamService>(
      *env->pool_, "contacts", *env->authenticator_, *env->executor_, *env->wakeups_,
      &env->server_->registry());
  env->server_->AddService(env->service_.get());
  env->server_->AddService(env->events_.get());
  events::EventStreamService* events_service = env->events_.get();
  env->server_->OnShutdown([events_service] { events_service->Shutdown(); });
  if (absl::Status s = env->server_->Start(); !s.ok()) {
    ADD_FAILURE() << s;
    return nullptr;
  }
  env->stub_ = v1::ContactsService::NewStub(crm::testing::LocalChannel(env->server_->grpc_port()));
  env->events_stub_ =
      crm::common::v1::EventStream::NewStub(crm::testing::LocalChannel(env->server_->grpc_port()));
  return env;
}

ContactsTestEnv::~ContactsTestEnv() {
  if (server_) server_->Shutdown();
  if (notifier_) notifier_->Stop();
}

}  // namespace crm::contacts::testing
