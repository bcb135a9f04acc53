// The contacts service against a real PostgreSQL, over real gRPC: CRUD, dedup under concurrency,
// pagination under inserts, etags, idempotency, roles and tenant isolation (API and RLS).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/api/errors.h"
#include "common/db/connection.h"
#include "common/db/transaction.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/status_matchers.h"
#include "tests/contacts/contacts_test_env.h"

namespace crm::contacts {
namespace {

using crm::testing::AuthedContext;
using crm::testing::MintToken;
using ::testing::ElementsAre;
using v1::Contact;

class ContactsServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = testing::ContactsTestEnv::Start().release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(env_, nullptr); }

  // Each test uses its own tenant, so tests cannot see each other's rows.
  std::string NewTenant() { return "t" + ids::NewUuidV7().substr(24); }

  grpc::Status Create(const std::string& token, const Contact& contact, Contact* out,
                      const std::string& request_id = "") {
    v1::CreateContactRequest request;
    *request.mutable_contact() = contact;
    request.set_request_id(request_id);
    return env_->stub().CreateContact(AuthedContext(token).get(), request, out);
  }

  grpc::Status Get(const std::string& token, const std::string& name, Contact* out) {
    v1::GetContactRequest request;
    request.set_name(name);
    return env_->stub().GetContact(AuthedContext(token).get(), request, out);
  }

  static Contact Person(const std::string& given, const std::string& email,
                        const std::string& phone = "") {
    Contact c;
    c.set_given_name(given);
    c.set_family_name("Petrosyan");
    if (!email.empty()) c.add_emails(email);
    if (!phone.empty()) c.add_phones(phone);
    return c;
  }

  static testing::ContactsTestEnv* env_;
};

testing::ContactsTestEnv* ContactsServiceTest::env_ = nullptr;

TEST_F(ContactsServiceTest, CreateGetUpdateDeleteRoundTrip) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact created;
  Contact input = Person("Աննա", "  Anna.Petrosyan@Example.COM ", "+1 202-555-0123");
  input.add_tags("vip");
  input.add_tags("vip");
  (*input.mutable_attributes())["shoe_size"] = "38";
  input.set_lead_source(v1::LEAD_SOURCE_PAID_ADS);
  ASSERT_TRUE(Create(token, input, &created).ok());
  EXPECT_THAT(created.name(), ::testing::StartsWith("contacts/"));
  EXPECT_EQ(created.given_name(), "Աննա");
  EXPECT_THAT(created.emails(), ElementsAre("Anna.Petrosyan@Example.COM"));
  EXPECT_THAT(created.phones(), ElementsAre("+12025550123"));
  EXPECT_THAT(created.tags(), ElementsAre("vip"));
  EXPECT_EQ(created.owner(), "alice");
  EXPECT_EQ(created.creator(), "alice");
  EXPECT_EQ(created.lead_source(), v1::LEAD_SOURCE_PAID_ADS);
  EXPECT_FALSE(created.etag().empty());
  EXPECT_GT(created.create_time().seconds(), 0);

  Contact fetched;
  ASSERT_TRUE(Get(token, created.name(), &fetched).ok());
  EXPECT_EQ(fetched.SerializeAsString(), created.SerializeAsString());

  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(created.name());
  update.mutable_contact()->set_job_title("CTO");
  update.mutable_contact()->set_given_name("ignored: not in the mask");
  update.mutable_update_mask()->add_paths("job_title");
  Contact updated;
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(token).get(), update, &updated).ok());
  EXPECT_EQ(updated.job_title(), "CTO");
  EXPECT_EQ(updated.given_name(), "Աննա");
  EXPECT_NE(updated.etag(), created.etag());

  v1::DeleteContactRequest del;
  del.set_name(created.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(env_->stub().DeleteContact(AuthedContext(token).get(), del, &empty).ok());
  EXPECT_EQ(Get(token, created.name(), &fetched).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListContactsResponse list;
  ASSERT_TRUE(
      env_->stub().ListContacts(AuthedContext(token).get(), v1::ListContactsRequest(), &list).ok());
  EXPECT_EQ(list.contacts_size(), 0);

  // The deleted contact's email is free again.
  Contact again;
  EXPECT_TRUE(Create(token, Person("Anna", "anna.petrosyan@example.com"), &again).ok());
}

TEST_F(ContactsServiceTest, DuplicateEmailIsAlreadyExistsNamingTheHolder) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact first;
  ASSERT_TRUE(Create(token, Person("X", "x@lead.example"), &first).ok());
  Contact second;
  grpc::Status status = Create(token, Person("X again", " X@LEAD.example"), &second);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(status), &info));
  EXPECT_EQ(info.resource_name(), first.name());
  EXPECT_EQ(info.resource_type(), "crm.contacts.v1.Contact");
}

TEST_F(ContactsServiceTest, PhonesWrittenDifferentlyAreOneContact) {
  const std::string tenant = NewTenant();
  const std::string admin = MintToken(tenant, "root", {"admin"});
  v1::UpdateTenantSettingsRequest settings;
  settings.mutable_settings()->set_default_phone_region("AM");
  settings.mutable_update_mask()->add_paths("default_phone_region");
  v1::TenantSettings result;
  ASSERT_TRUE(
      env_->stub().UpdateTenantSettings(AuthedContext(admin).get(), settings, &result).ok());
  EXPECT_EQ(result.default_phone_region(), "AM");

  const std::string token = MintToken(tenant, "alice", {"rep"});
  Contact first;
  ASSERT_TRUE(Create(token, Person("A", "", "+374 91 234567"), &first).ok());
  EXPECT_THAT(first.phones(), ElementsAre("+37491234567"));
  Contact second;
  EXPECT_EQ(Create(token, Person("B", "", "091 23-45-67"), &second).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ContactsServiceTest, UnparsablePhoneNamesTheField) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact input = Person("A", "a@b.example", "+1 202-555-0123");
  input.add_phones("not a phone");
  Contact out;
  grpc::Status status = Create(token, input, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(status), &bad));
  ASSERT_EQ(bad.field_violations_size(), 1);
  EXPECT_EQ(bad.field_violations(0).field(), "contact.phones[1]");
  // Nothing was written.
  v1::ListContactsResponse list;
  ASSERT_TRUE(
      env_->stub().ListContacts(AuthedContext(token).get(), v1::ListContactsRequest(), &list).ok());
  EXPECT_EQ(list.contacts_size(), 0);
}

TEST_F(ContactsServiceTest, EightConcurrentCreatesOfOneEmailMakeExactlyOneContact) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  constexpr int kThreads = 8;
  std::vector<grpc::Status> statuses(kThreads);
  std::vector<Contact> results(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      statuses[i] = Create(token, Person("Lead X", "Lead.X@example.com"), &results[i]);
    });
  }
  for (auto& t : threads) t.join();
  int created = 0;
  std::string winner;
  for (int i = 0; i < kThreads; ++i) {
    if (statuses[i].ok()) {
      ++created;
      winner = results[i].name();
    }
  }
  ASSERT_EQ(created, 1);
  for (int i = 0; i < kThreads; ++i) {
    if (statuses[i].ok()) continue;
    ASSERT_EQ(statuses[i].error_code(), grpc::StatusCode::ALREADY_EXISTS)
        << statuses[i].error_message();
    google::rpc::ResourceInfo info;
    ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(statuses[i]), &info));
    EXPECT_EQ(info.resource_name(), winner);
  }
}

TEST_F(ContactsServiceTest, PaginationNeitherSkipsNorRepeatsWhileRowsAreInserted) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  std::set<std::string> originals;
  for (int i = 0; i < 25; ++i) {
    Contact c;
    ASSERT_TRUE(Create(token, Person("P" + std::to_string(i), ""), &c).ok());
    originals.insert(c.name());
  }
  std::multiset<std::string> seen;
  v1::ListContactsRequest request;
  request.set_page_size(7);
  int inserted = 0;
  for (int page = 0; page < 20; ++page) {
    v1::ListContactsResponse response;
    grpc::Status status = env_->stub().ListContacts(AuthedContext(token).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    for (const Contact& c : response.contacts()) seen.insert(c.name());
    // New rows arrive between pages.
    for (int i = 0; i < 3; ++i) {
      Contact c;
      ASSERT_TRUE(Create(token, Person("N" + std::to_string(inserted++), ""), &c).ok());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  for (const std::string& name : originals) EXPECT_EQ(seen.count(name), 1u) << name;
  for (const std::string& name : seen) EXPECT_EQ(seen.count(name), 1u) << name;
}

TEST_F(ContactsServiceTest, PageTokenOfAnotherQueryOrGarbageIsInvalidArgument) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  v1::ListContactsRequest request;
  request.set_page_token("garbage!");
  v1::ListContactsResponse response;
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(token).get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_page_token("");
  request.set_page_size(5000);
  EXPECT_EQ(env_->stub().ListContacts(AuthedContext(token).get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ContactsServiceTest, StaleEtagIsAborted) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact created;
  ASSERT_TRUE(Create(token, Person("E", "e@x.example"), &created).ok());
  v1::UpdateContactRequest update;
  *update.mutable_contact() = created;
  update.mutable_contact()->set_job_title("first");
  update.mutable_update_mask()->add_paths("job_title");
  Contact out;
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(token).get(), update, &out).ok());
  // Same (now stale) etag again.
  update.mutable_contact()->set_job_title("second");
  EXPECT_EQ(env_->stub().UpdateContact(AuthedContext(token).get(), update, &out).error_code(),
            grpc::StatusCode::ABORTED);
  v1::DeleteContactRequest del;
  del.set_name(created.name());
  del.set_etag(created.etag());
  google::protobuf::Empty empty;
  EXPECT_EQ(env_->stub().DeleteContact(AuthedContext(token).get(), del, &empty).error_code(),
            grpc::StatusCode::ABORTED);
  Contact fetched;
  ASSERT_TRUE(Get(token, created.name(), &fetched).ok());
  EXPECT_EQ(fetched.job_title(), "first");
}

TEST_F(ContactsServiceTest, RetryWithSameRequestIdReturnsTheFirstResult) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact first, retry;
  ASSERT_TRUE(Create(token, Person("R", "r@x.example"), &first, "req-42").ok());
  ASSERT_TRUE(Create(token, Person("R", "r@x.example"), &retry, "req-42").ok());
  EXPECT_EQ(retry.name(), first.name());
  EXPECT_EQ(retry.etag(), first.etag());
  Contact other;
  EXPECT_EQ(Create(token, Person("R", "r@x.example"), &other, "req-43").error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(ContactsServiceTest, ARequestIdIsTheCallersOwnNotTheTenants) {
  // Rep B reusing rep A's idempotency key gets a record of her own, never A's.
  const std::string tenant = NewTenant();
  const std::string alice = MintToken(tenant, "alice", {"rep"});
  const std::string bob = MintToken(tenant, "bob", {"rep"});
  Contact a, b;
  ASSERT_TRUE(Create(alice, Person("A", "a@key.example"), &a, "shared-key").ok());
  ASSERT_TRUE(Create(bob, Person("B", "b@key.example"), &b, "shared-key").ok());
  EXPECT_NE(b.name(), a.name());
  EXPECT_EQ(b.given_name(), "B");
  EXPECT_EQ(b.creator(), "bob");

  auto company = [&](const std::string& token, const std::string& name, v1::Company* out) {
    v1::CreateCompanyRequest request;
    request.mutable_company()->set_display_name(name);
    request.set_request_id("shared-key");
    return env_->stub().CreateCompany(AuthedContext(token).get(), request, out);
  };
  v1::Company ca, cb;
  ASSERT_TRUE(company(alice, "Alice Inc", &ca).ok());
  ASSERT_TRUE(company(bob, "Bob Ltd", &cb).ok());
  EXPECT_NE(cb.name(), ca.name());
  EXPECT_EQ(cb.display_name(), "Bob Ltd");

  auto segment = [&](const std::string& token, const std::string& name, v1::Segment* out) {
    v1::CreateSegmentRequest request;
    request.mutable_segment()->set_display_name(name);
    request.mutable_segment()->set_filter("lifecycle_stage = LEAD");
    request.set_request_id("shared-key");
    return env_->stub().CreateSegment(AuthedContext(token).get(), request, out);
  };
  v1::Segment sa, sb;
  ASSERT_TRUE(segment(alice, "Alice's leads", &sa).ok());
  ASSERT_TRUE(segment(bob, "Bob's leads", &sb).ok());
  EXPECT_NE(sb.name(), sa.name());
  EXPECT_EQ(sb.display_name(), "Bob's leads");

  auto log = [&](const std::string& token, const std::string& subject, v1::Activity* out) {
    v1::LogActivityRequest request;
    request.mutable_activity()->set_kind(v1::ACTIVITY_KIND_CALL);
    request.mutable_activity()->set_contact(a.name());
    request.mutable_activity()->set_subject(subject);
    request.set_request_id("shared-key");
    return env_->stub().LogActivity(AuthedContext(token).get(), request, out);
  };
  v1::Activity la, lb;
  ASSERT_TRUE(log(alice, "Alice called", &la).ok());
  ASSERT_TRUE(log(bob, "Bob called", &lb).ok());
  EXPECT_NE(lb.name(), la.name());
  EXPECT_EQ(lb.subject(), "Bob called");

  auto import = [&](const std::string& token, const std::string& csv,
                    v1::ImportContactsResponse* out) {
    v1::ImportContactsFileRequest request;
    request.mutable_options()->set_import_id("shared-key");
    request.set_csv(csv);
    return env_->stub().ImportContactsFile(AuthedContext(token).get(), request, out);
  };
  v1::ImportContactsResponse ia, ib;
  ASSERT_TRUE(import(alice, "email\nia@key.example\n", &ia).ok());
  ASSERT_TRUE(import(bob, "email\nib1@key.example\nib2@key.example\n", &ib).ok());
  EXPECT_EQ(ia.rows_size(), 1);
  EXPECT_EQ(ib.rows_size(), 2);  // bob's own file, not alice's report
  // And each caller's own retry still answers as the first call did.
  Contact again;
  ASSERT_TRUE(Create(bob, Person("B", "b@key.example"), &again, "shared-key").ok());
  EXPECT_EQ(again.name(), b.name());
}

TEST_F(ContactsServiceTest, AnotherTenantCannotGetListUpdateOrDeleteEvenKnowingTheId) {
  const std::string a = MintToken(NewTenant(), "alice", {"admin"});
  const std::string b = MintToken(NewTenant(), "bob", {"admin"});
  Contact secret;
  ASSERT_TRUE(Create(a, Person("Secret", "secret@a.example"), &secret).ok());

  Contact out;
  EXPECT_EQ(Get(b, secret.name(), &out).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListContactsResponse list;
  ASSERT_TRUE(
      env_->stub().ListContacts(AuthedContext(b).get(), v1::ListContactsRequest(), &list).ok());
  EXPECT_EQ(list.contacts_size(), 0);
  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(secret.name());
  update.mutable_contact()->set_job_title("pwned");
  update.mutable_update_mask()->add_paths("job_title");
  EXPECT_EQ(env_->stub().UpdateContact(AuthedContext(b).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::DeleteContactRequest del;
  del.set_name(secret.name());
  google::protobuf::Empty empty;
  EXPECT_EQ(env_->stub().DeleteContact(AuthedContext(b).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // The same email is free in tenant B: uniqueness is per tenant.
  Contact b_contact;
  EXPECT_TRUE(Create(b, Person("Other", "secret@a.example"), &b_contact).ok());

  Contact still;
  ASSERT_TRUE(Get(a, secret.name(), &still).ok());
  EXPECT_EQ(still.job_title(), "");
}

TEST_F(ContactsServiceTest, RowLevelSecurityBlocksAQueryThatForgetsTheTenantFilter) {
  const std::string tenant_a = NewTenant();
  const std::string a = MintToken(tenant_a, "alice", {"rep"});
  Contact secret;
  ASSERT_TRUE(Create(a, Person("Secret", "rls@a.example"), &secret).ok());

  // No WHERE tenant_id: as tenant B the service role sees nothing of A.
  auto tx =
      db::Transaction::Begin(env_->pool(), "some-other-tenant", absl::Now() + absl::Seconds(5));
  ASSERT_OK(tx);
  auto rows = tx->Exec("SELECT count(*) FROM contacts.contacts");
  ASSERT_OK(rows);
  EXPECT_EQ(rows->Int(0, 0), 0);
  // Writing a row for another tenant is refused by the policy's WITH CHECK.
  auto insert = tx->Exec(
      "INSERT INTO contacts.contacts (tenant_id, id, owner, creator) "
      "VALUES ($1, gen_random_uuid(), 'x', 'x')",
      {tenant_a});
  EXPECT_THAT(insert, crm::testing::StatusIs(absl::StatusCode::kPermissionDenied));

  // Without any tenant set, nothing is visible either.
  auto conn = db::Connection::Open(env_->database().ConnInfo("contacts"), absl::Seconds(5));
  ASSERT_OK(conn);
  auto all = (*conn)->Exec("SELECT count(*) FROM contacts.contacts");
  ASSERT_OK(all);
  EXPECT_EQ(all->Int(0, 0), 0);
}

TEST_F(ContactsServiceTest, RepsChangeOnlyWhatTheyOwnManagersChangeAnything) {
  const std::string tenant = NewTenant();
  const std::string alice = MintToken(tenant, "alice", {"rep"});
  const std::string bob = MintToken(tenant, "bob", {"rep"});
  const std::string boss = MintToken(tenant, "carol", {"manager"});
  Contact mine;
  ASSERT_TRUE(Create(alice, Person("Mine", "mine@x.example"), &mine).ok());

  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name(mine.name());
  update.mutable_contact()->set_job_title("changed");
  update.mutable_update_mask()->add_paths("job_title");
  Contact out;
  EXPECT_EQ(env_->stub().UpdateContact(AuthedContext(bob).get(), update, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Bob may read it.
  EXPECT_TRUE(Get(bob, mine.name(), &out).ok());
  // Alice cannot hand it to Bob; the manager can.
  v1::UpdateContactRequest reassign;
  reassign.mutable_contact()->set_name(mine.name());
  reassign.mutable_contact()->set_owner("bob");
  reassign.mutable_update_mask()->add_paths("owner");
  EXPECT_EQ(env_->stub().UpdateContact(AuthedContext(alice).get(), reassign, &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(env_->stub().UpdateContact(AuthedContext(boss).get(), reassign, &out).ok());
  EXPECT_EQ(out.owner(), "bob");
  // A rep cannot create for someone else, nor change tenant settings.
  Contact for_bob = Person("For Bob", "forbob@x.example");
  for_bob.set_owner("bob");
  EXPECT_EQ(Create(alice, for_bob, &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdateTenantSettingsRequest settings;
  settings.mutable_settings()->set_time_zone("Asia/Yerevan");
  settings.mutable_update_mask()->add_paths("time_zone");
  v1::TenantSettings s;
  EXPECT_EQ(env_->stub().UpdateTenantSettings(AuthedContext(boss).get(), settings, &s).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ContactsServiceTest, MissingForgedOrForeignTokensAreUnauthenticated) {
  Contact out;
  EXPECT_EQ(Create("", Person("A", "a@x.example"), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const std::string forged = MintToken(NewTenant(), "eve", {"admin"}, "another-secret");
  EXPECT_EQ(Create(forged, Person("A", "a@x.example"), &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Get("not.a.jwt", "contacts/00000000-0000-7000-8000-000000000000", &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ContactsServiceTest, CompaniesAreUniqueByDomainAndContactsMustPointAtLiveOnes) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  v1::CreateCompanyRequest request;
  request.mutable_company()->set_display_name("Acme");
  request.mutable_company()->set_domain("https://www.Acme.com/about");
  v1::Company acme;
  ASSERT_TRUE(env_->stub().CreateCompany(AuthedContext(token).get(), request, &acme).ok());
  EXPECT_EQ(acme.domain(), "acme.com");
  request.mutable_company()->set_domain("ACME.com.");
  v1::Company dup;
  grpc::Status status = env_->stub().CreateCompany(AuthedContext(token).get(), request, &dup);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(api::GetDetail(api::FromGrpcStatus(status), &info));
  EXPECT_EQ(info.resource_name(), acme.name());

  Contact employee = Person("E", "e@acme.com");
  employee.set_company(acme.name());
  Contact out;
  ASSERT_TRUE(Create(token, employee, &out).ok());
  EXPECT_EQ(out.company(), acme.name());
  Contact ghost = Person("G", "g@acme.com");
  ghost.set_company("companies/00000000-0000-7000-8000-000000000000");
  EXPECT_EQ(Create(token, ghost, &out).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ContactsServiceTest, PoolRecoversAfterTheServerDropsItsConnections) {
  const std::string token = MintToken(NewTenant(), "alice", {"rep"});
  Contact created;
  ASSERT_TRUE(Create(token, Person("K", "k@x.example"), &created).ok());
  // What a server restart does to idle connections: terminate every backend of the role.
  auto admin = db::Connection::Open(env_->database().ConnInfo("postgres"), absl::Seconds(5));
  ASSERT_OK(admin);
  ASSERT_OK((*admin)->Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'contacts' "
      "AND datname = current_database()"));
  // Give the terminations a moment to reach the sockets, then expect normal service.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  Contact fetched;
  grpc::Status status;
  do {
    status = Get(token, created.name(), &fetched);
  } while (!status.ok() && absl::Now() < deadline);
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  // Every later call succeeds at once: no broken connection is handed out again.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(Get(token, created.name(), &fetched).ok());
}

}  // namespace
}  // namespace crm::contacts
