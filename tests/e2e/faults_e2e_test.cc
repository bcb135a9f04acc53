// Faults injected under load, against the real binaries on a private, durable PostgreSQL (fsync
// on, so an acknowledged write must survive a crash of the database): the database crashing and
// coming back, running out of disk, turning read-only; each service SIGKILLed in turn while the
// others keep writing; a hung backend behind the gateway. Every fault is bounded and undone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/connection.h"
#include "common/ids/uuid.h"
#include "common/testing/calendar.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/http_client.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/wait.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm {
namespace {

using testing::AuthedContext;
using testing::ServiceProcess;
using testing::WaitUntil;

const std::string& kSecret = testing::kJwtSecretFlag;
const std::string& kServiceSecret = testing::kServiceSecretFlag;
const std::string kPgScript = std::string(CRM_SOURCE_DIR) + "/deploy/local/pg.sh";

int Shell(const std::string& command) { return std::system(command.c_str()); }

// A PostgreSQL cluster of this suite's own (the shared test cluster runs without fsync, and
// other suites use it meanwhile), durable, restartable on the same socket.
class PrivateCluster {
 public:
  static std::unique_ptr<PrivateCluster> Start() {
    auto cluster = std::make_unique<PrivateCluster>();
    cluster->dir_ = absl::StrCat("/tmp/crm-faults-pg-", ids::NewUuidV7());
    std::filesystem::create_directories(cluster->dir_);
    std::filesystem::permissions(cluster->dir_, std::filesystem::perms::all);
    if (Shell(absl::StrCat(kPgScript, " start ", cluster->dir_)) != 0) return nullptr;
    std::ifstream port_file(cluster->dir_ + "/port");
    std::string port;
    port_file >> port;
    cluster->env_file_ = cluster->dir_ + ".env";
    std::ofstream(cluster->env_file_) << "host=" << cluster->dir_ << "/sock port=" << port << "\n";
    // TestDatabase reads the cluster from here.
    setenv("CRM_TEST_PG_ENV", cluster->env_file_.c_str(), 1);
    return cluster;
  }
  ~PrivateCluster() {
    (void)Shell(absl::StrCat(kPgScript, " stop ", dir_));
    (void)umount2((dir_ + "/small").c_str(), MNT_DETACH);  // if a disk-full test stopped early
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    std::filesystem::remove(env_file_, ignored);
  }
  // As in a crash: no checkpoint, no goodbye to clients.
  void Kill() { ASSERT_EQ(Shell(absl::StrCat(kPgScript, " kill ", dir_)), 0); }
  void Restart() { ASSERT_EQ(Shell(absl::StrCat(kPgScript, " start ", dir_)), 0); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, env_file_;
};

// One statement as the superuser in the test database; the first cell of the result.
std::string AdminQuery(const testing::TestDatabase& database, const std::string& sql) {
  auto connection = db::Connection::Open(database.ConnInfo("postgres"), absl::Seconds(10));
  EXPECT_TRUE(connection.ok()) << connection.status();
  if (!connection.ok()) return "";
  auto result = (*connection)->Exec(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
  if (!result.ok() || result->rows() == 0) return "";
  return std::string(result->Text(0, 0));
}

int64_t CountOf(const testing::TestDatabase& database, const std::string& sql) {
  int64_t n = -1;
  EXPECT_TRUE(absl::SimpleAtoi(AdminQuery(database, sql), &n)) << sql;
  return n;
}

bool Alive(const ServiceProcess& process) {
  int status = 0;
  return waitpid(process.pid(), &status, WNOHANG) == 0;
}

// A bounded create load on the contacts service from `workers` threads: what was acknowledged,
// and the status codes of everything that was not.
class ContactLoad {
 public:
  ContactLoad(contacts::v1::ContactsService::Stub& stub, std::string token, int workers,
              std::string attribute_value = "")
      : stub_(stub), token_(std::move(token)), attribute_(std::move(attribute_value)) {
    for (int w = 0; w < workers; ++w) {
      threads_.emplace_back([this, w] { Run(w); });
    }
  }
  ~ContactLoad() { Stop(); }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acknowledged_;
  }
  std::map<grpc::StatusCode, int> failures() {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  std::vector<std::string> failure_messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  absl::Time last_success() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_success_;
  }

 private:
  void Run(int worker) {
    for (int i = 0; !stop_ && i < 100000; ++i) {
      contacts::v1::CreateContactRequest request;
      request.mutable_contact()->set_given_name("Load");
      request.mutable_contact()->add_emails(
          absl::StrCat("w", worker, "-", i, "-", ids::NewUuidV7(), "@faults.example"));
      for (int a = 0; !attribute_.empty() && a < 8; ++a) {
        (*request.mutable_contact()->mutable_attributes())[absl::StrCat("a", a)] = attribute_;
      }
      auto context = AuthedContext(token_);
      // Longer than every bound the service works under (pool acquire 1 s, database connect 3 s),
      // so each call ends with the service's own answer rather than this client's deadline.
      context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      contacts::v1::Contact created;
      const grpc::Status status = stub_.CreateContact(context.get(), request, &created);
      std::lock_guard<std::mutex> lock(mu_);
      if (status.ok()) {
        acknowledged_.push_back(created.name());
        last_success_ = absl::Now();
      } else {
        // The first message of each code, then a few more.
        if (++failures_[status.error_code()] == 1 || messages_.size() < 5) {
          messages_.push_back(absl::StrCat(status.error_code(), ": ", status.error_message()));
        }
      }
      if (!status.ok()) absl::SleepFor(absl::Milliseconds(20));
    }
  }

  contacts::v1::ContactsService::Stub& stub_;
  const std::string token_;
  const std::string attribute_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<std::string> acknowledged_;
  std::map<grpc::StatusCode, int> failures_;
  std::vector<std::string> messages_;
  absl::Time last_success_ = absl::InfinitePast();
};

class FaultsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = PrivateCluster::Start().release();
    ASSERT_NE(cluster_, nullptr) << "cannot start the private PostgreSQL";
  }
  static void TearDownTestSuite() { delete cluster_; }

  static std::unique_ptr<ServiceProcess> StartContacts(const testing::TestDatabase& database) {
    auto process = ServiceProcess::Start(CRM_CONTACTS_BIN,
                                         {"--db_url=" + database.ConnInfo("contacts"), kSecret,
                                          kServiceSecret, "--db_acquire_timeout_ms=1000"},
                                         absl::Seconds(30));
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? std::move(*process) : nullptr;
  }

  static std::unique_ptr<contacts::v1::ContactsService::Stub> ContactsStub(
      const ServiceProcess& process) {
    return contacts::v1::ContactsService::NewStub(testing::LocalChannel(process.grpc_port()));
  }
  static std::string RepToken() { return testing::MintToken("acme", "rita", {"rep"}); }

  static void ExpectEveryAcknowledgedContactExists(contacts::v1::ContactsService::Stub& stub,
                                                   const std::string& token,
                                                   const std::vector<std::string>& names) {
    for (const std::string& name : names) {
      contacts::v1::GetContactRequest get;
      get.set_name(name);
      contacts::v1::Contact contact;
      const grpc::Status status = stub.GetContact(AuthedContext(token).get(), get, &contact);
      ASSERT_TRUE(status.ok()) << "acknowledged " << name << " is gone: " << status.error_message();
    }
  }

  static PrivateCluster* cluster_;
};

PrivateCluster* FaultsE2eTest::cluster_ = nullptr;

TEST_F(FaultsE2eTest, DatabaseCrashMidLoadIsUnavailableThenRecoversWithNothingLost) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto contacts_process = StartContacts(*database);
  ASSERT_NE(contacts_process, nullptr);
  auto stub = ContactsStub(*contacts_process);
  const std::string token = RepToken();

  ContactLoad load(*stub, token, 3);
  absl::SleepFor(absl::Seconds(2));
  const size_t before_crash = load.acknowledged().size();
  cluster_->Kill();
  absl::SleepFor(absl::Seconds(3));
  const std::map<grpc::StatusCode, int> while_down = load.failures();
  cluster_->Restart();
  const absl::Time restarted = absl::Now();
  ASSERT_TRUE(WaitUntil([&] { return load.last_success() > restarted; }, absl::Seconds(15)))
      << "no write succeeded within 15 s of the database coming back";
  const absl::Duration recovery = load.last_success() - restarted;
  absl::SleepFor(absl::Seconds(2));
  load.Stop();

  EXPECT_TRUE(Alive(*contacts_process)) << "the service died with its database";
  EXPECT_GT(before_crash, 0u);
  int failed = 0;
  for (const auto& [code, count] : load.failures()) {
    failed += count;
    EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE)
        << count << " calls failed with code " << code << ", e.g. "
        << ::testing::PrintToString(load.failure_messages());
  }
  EXPECT_GT(failed, 0) << "the outage went unnoticed";
  EXPECT_FALSE(while_down.empty());
  // Clients are told the database is unavailable; where it lives (socket, host, port) is for
  // the operator's log only.
  for (const std::string& message : load.failure_messages()) {
    EXPECT_FALSE(absl::StrContains(message, cluster_->dir())) << message;
    EXPECT_FALSE(absl::StrContains(message, "port")) << message;
  }
  const std::vector<std::string> acknowledged = load.acknowledged();
  ExpectEveryAcknowledgedContactExists(*stub, token, acknowledged);
  // Each stored contact has exactly one creation event: none lost with the crash, none doubled.
  EXPECT_EQ(CountOf(*database,
                    "SELECT count(*) FROM contacts.contacts c WHERE (SELECT count(*) FROM "
                    "contacts.outbox o WHERE o.aggregate_id = 'contacts/' || c.id AND "
                    "o.event_type LIKE '%ContactCreated') <> 1"),
            0);
  EXPECT_GE(CountOf(*database, "SELECT count(*) FROM contacts.contacts"),
            static_cast<int64_t>(acknowledged.size()));
  std::cout << "database crash: acknowledged=" << acknowledged.size() << " failed=" << failed
            << " recovery_ms=" << absl::ToInt64Milliseconds(recovery) << "\n";
}

TEST_F(FaultsE2eTest, DiskFullGivesClearErrorsAndWritesNothingHalfway) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  // The contacts table on a 3 MiB file system of its own; WAL and the outbox stay where they are.
  const std::string small = cluster_->dir() + "/small";
  std::filesystem::create_directories(small);
  ASSERT_EQ(mount("tmpfs", small.c_str(), "tmpfs", 0, "size=3m"), 0)
      << "mounting a small tmpfs needs root: " << strerror(errno);
  ASSERT_EQ(Shell("chown postgres: " + small), 0);
  const std::string tablespace = absl::StrCat("small_", getpid());
  AdminQuery(*database, absl::StrCat("CREATE TABLESPACE ", tablespace, " LOCATION '", small, "'"));
  auto contacts_process = StartContacts(*database);  // its migrations create the table
  ASSERT_NE(contacts_process, nullptr);
  AdminQuery(*database, absl::StrCat("ALTER TABLE contacts.contacts SET TABLESPACE ", tablespace));
  // Stored as sent, not compressed, so each row really takes its ~8 KiB.
  AdminQuery(*database,
             "ALTER TABLE contacts.contacts ALTER COLUMN attributes SET STORAGE EXTERNAL");
  auto stub = ContactsStub(*contacts_process);
  const std::string token = RepToken();
  {
    // Rows of ~8 KiB fill 3 MiB after a few hundred creates.
    ContactLoad load(*stub, token, 2, std::string(1000, 'x'));
    ASSERT_TRUE(WaitUntil(
        [&] {
          const auto failures = load.failures();
          return failures.contains(grpc::StatusCode::UNAVAILABLE) &&
                 failures.at(grpc::StatusCode::UNAVAILABLE) >= 20;
        },
        absl::Seconds(60)))
        << "the disk never filled up";
    load.Stop();
    EXPECT_TRUE(Alive(*contacts_process));
    for (const auto& [code, count] : load.failures()) {
      EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << count << " failed with " << code;
    }
    const std::vector<std::string> messages = load.failure_messages();
    ASSERT_FALSE(messages.empty());
    EXPECT_THAT(messages[0], ::testing::HasSubstr("space")) << "not a clear error";
    const std::vector<std::string> acknowledged = load.acknowledged();
    ExpectEveryAcknowledgedContactExists(*stub, token, acknowledged);
    // A failed create left neither a row nor an event.
    EXPECT_EQ(CountOf(*database, "SELECT count(*) FROM contacts.contacts"),
              static_cast<int64_t>(acknowledged.size()));
    EXPECT_EQ(
        CountOf(*database,
                "SELECT count(*) FROM contacts.outbox WHERE event_type LIKE '%ContactCreated'"),
        static_cast<int64_t>(acknowledged.size()));
    std::cout << "disk full: acknowledged=" << acknowledged.size()
              << " refused=" << load.failures()[grpc::StatusCode::UNAVAILABLE] << "\n";
  }
  // Space again: writes succeed with no restart.
  AdminQuery(*database, "ALTER TABLE contacts.contacts SET TABLESPACE pg_default");
  contacts::v1::CreateContactRequest request;
  request.mutable_contact()->set_given_name("After");
  contacts::v1::Contact created;
  EXPECT_TRUE(stub->CreateContact(AuthedContext(token).get(), request, &created).ok());
  contacts_process.reset();
  AdminQuery(*database, "DROP TABLESPACE " + tablespace);
  EXPECT_EQ(umount(small.c_str()), 0) << strerror(errno);
}

TEST_F(FaultsE2eTest, ReadOnlyDatabaseRefusesWritesClearlyAndServesReads) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto contacts_process = StartContacts(*database);
  ASSERT_NE(contacts_process, nullptr);
  auto stub = ContactsStub(*contacts_process);
  const std::string token = RepToken();
  contacts::v1::CreateContactRequest request;
  request.mutable_contact()->set_given_name("Before");
  contacts::v1::Contact before;
  ASSERT_TRUE(stub->CreateContact(AuthedContext(token).get(), request, &before).ok());

  // As a failover to a standby or an operator's emergency switch would make it.
  AdminQuery(*database, "ALTER SYSTEM SET default_transaction_read_only = on");
  AdminQuery(*database, "SELECT pg_reload_conf()");
  absl::SleepFor(absl::Milliseconds(500));
  const int64_t rows = CountOf(*database, "SELECT count(*) FROM contacts.contacts");
  int refused = 0;
  for (int i = 0; i < 20; ++i) {
    request.mutable_contact()->set_given_name(absl::StrCat("During ", i));
    contacts::v1::Contact created;
    const grpc::Status status = stub->CreateContact(AuthedContext(token).get(), request, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr("read-only"));
    if (!status.ok()) ++refused;
  }
  contacts::v1::GetContactRequest get;
  get.set_name(before.name());
  contacts::v1::Contact read;
  EXPECT_TRUE(stub->GetContact(AuthedContext(token).get(), get, &read).ok()) << "reads must work";
  AdminQuery(*database, "ALTER SYSTEM RESET default_transaction_read_only");
  AdminQuery(*database, "SELECT pg_reload_conf()");
  EXPECT_EQ(CountOf(*database, "SELECT count(*) FROM contacts.contacts"), rows);
  ASSERT_TRUE(WaitUntil(
      [&] {
        contacts::v1::Contact created;
        return stub->CreateContact(AuthedContext(token).get(), request, &created).ok();
      },
      absl::Seconds(10)));
  std::cout << "read-only: refused=" << refused << "\n";
}

// True when every thread of `pid` is in the stopped state ('T' in /proc/PID/task/TID/stat).
bool AllThreadsStopped(pid_t pid) {
  std::error_code error;
  int threads = 0;
  for (const auto& task :
       std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/task"), error)) {
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t close = line.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'T') {
      return false;
    }
    ++threads;
  }
  return !error && threads > 0;
}

TEST_F(FaultsE2eTest, HungBackendAnswersWithinTheCallersDeadlineAtTheGateway) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto contacts_process = StartContacts(*database);
  ASSERT_NE(contacts_process, nullptr);
  const std::string contacts_address = absl::StrCat("127.0.0.1:", contacts_process->grpc_port());
  auto gateway = ServiceProcess::Start(
      CRM_GATEWAY_BIN,
      {"--http_address=127.0.0.1:0", kSecret, "--contacts_address=" + contacts_address,
       "--pipeline_address=" + contacts_address, "--tasks_address=" + contacts_address,
       "--reporting_address=" + contacts_address},
      absl::Seconds(30));
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  const std::string url =
      absl::StrCat("http://127.0.0.1:", (*gateway)->grpc_port(), "/v1/contacts");
  std::map<std::string, std::string> headers = {
      {"Authorization", "Bearer " + testing::MintToken("acme", "rita", {"rep"})}};
  auto warm = testing::HttpCall("GET", url, headers, "");
  ASSERT_TRUE(warm.ok() && warm->status == 200);

  // The backend hangs: its process is stopped, connections stay open, nothing answers. A stop
  // takes effect after kill() returns (a thread stops when it next leaves the kernel), so wait
  // until every thread is stopped: otherwise the first call can still be served.
  ASSERT_EQ(kill(contacts_process->pid(), SIGSTOP), 0);
  ASSERT_TRUE(
      WaitUntil([&] { return AllThreadsStopped(contacts_process->pid()); }, absl::Seconds(10)));
  for (const int timeout_ms : {300, 1000}) {
    headers["X-Timeout-Ms"] = absl::StrCat(timeout_ms);
    const absl::Time start = absl::Now();
    auto response = testing::HttpCall("GET", url, headers, "");
    const absl::Duration took = absl::Now() - start;
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 504) << response->body;
    // Within the deadline plus scheduling slack on a loaded 2-core machine (ASan, ctest -j2).
    EXPECT_LT(took, absl::Milliseconds(timeout_ms + 1000)) << "answered after " << took;
    EXPECT_GE(took, absl::Milliseconds(timeout_ms - 10));
    std::cout << "hung backend: deadline_ms=" << timeout_ms
              << " answered_ms=" << absl::ToInt64Milliseconds(took) << "\n";
  }
  ASSERT_EQ(kill(contacts_process->pid(), SIGCONT), 0);
  headers.erase("X-Timeout-Ms");
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto response = testing::HttpCall("GET", url, headers, "");
        return response.ok() && response->status == 200;
      },
      absl::Seconds(10)))
      << "the gateway did not recover with its backend";
}

// A service that can be SIGKILLed and started again on the same port (its peers keep the address).
struct Restartable {
  Restartable(std::string binary_path, std::vector<std::string> flags)
      : binary(std::move(binary_path)), args(std::move(flags)) {}

  std::string binary;
  std::vector<std::string> args;
  std::unique_ptr<ServiceProcess> process;
  int port = 0;

  void Start() {
    std::vector<std::string> a = args;
    if (port != 0) a.push_back(absl::StrCat("--grpc_address=127.0.0.1:", port));
    auto started = ServiceProcess::Start(binary, a, absl::Seconds(30));
    ASSERT_TRUE(started.ok()) << binary << ": " << started.status();
    process = std::move(*started);
    port = process->grpc_port();
  }
  void KillAndRestart() {
    ASSERT_TRUE(process->StopWith(SIGKILL, absl::Seconds(10)).ok());
    Start();
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
};

std::string TotalCell(const reporting::v1::Report& report, const std::string& column) {
  for (int i = 0; i < report.columns_size(); ++i) {
    if (report.columns(i).name() == column && i < report.totals().cells_size()) {
      return report.totals().cells(i);
    }
  }
  return "";
}

TEST_F(FaultsE2eTest, EachServiceKilledInTurnLosesNoWriteNoEventAndFiresNoReminderTwice) {
  const absl::Time test_start = absl::Now();
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  Restartable contacts{CRM_CONTACTS_BIN,
                       {"--db_url=" + database->ConnInfo("contacts"), kSecret, kServiceSecret}};
  contacts.Start();
  Restartable pipeline{CRM_PIPELINE_BIN,
                       {"--db_url=" + database->ConnInfo("pipeline"), kSecret, kServiceSecret,
                        "--contacts_address=" + contacts.address()}};
  pipeline.Start();
  Restartable tasks{CRM_TASKS_BIN,
                    {"--db_url=" + database->ConnInfo("tasks"), kSecret, kServiceSecret,
                     "--contacts_address=" + contacts.address(),
                     "--pipeline_address=" + pipeline.address(), "--reminder_max_sleep_ms=200"}};
  tasks.Start();
  Restartable reporting{
      CRM_REPORTING_BIN,
      {"--db_url=" + database->ConnInfo("reporting"), kSecret, kServiceSecret,
       "--contacts_address=" + contacts.address(), "--pipeline_address=" + pipeline.address(),
       "--tasks_address=" + tasks.address()}};
  reporting.Start();
  auto contacts_stub = contacts::v1::ContactsService::NewStub(testing::LocalChannel(contacts.port));
  auto pipeline_stub = pipeline::v1::PipelineService::NewStub(testing::LocalChannel(pipeline.port));
  auto tasks_stub = tasks::v1::TasksService::NewStub(testing::LocalChannel(tasks.port));
  auto reports_stub =
      reporting::v1::ReportingService::NewStub(testing::LocalChannel(reporting.port));
  const std::string rep = testing::MintToken("acme", "rita", {"rep"});

  contacts::v1::CreateContactRequest new_contact;
  new_contact.mutable_contact()->set_given_name("Kim");
  contacts::v1::Contact kim;
  ASSERT_TRUE(contacts_stub->CreateContact(AuthedContext(rep).get(), new_contact, &kim).ok());
  pipeline::v1::ListPipelinesRequest list_pipelines;
  pipeline::v1::ListPipelinesResponse pipelines;
  ASSERT_TRUE(
      pipeline_stub->ListPipelines(AuthedContext(rep).get(), list_pipelines, &pipelines).ok());
  std::string won_stage;
  for (const auto& stage : pipelines.pipelines(0).stages()) {
    if (stage.kind() == pipeline::v1::STAGE_KIND_WON) won_stage = stage.id();
  }

  // Two workers: a deal created and won, a call logged, a task with a reminder a second ahead.
  std::mutex mu;
  std::vector<std::string> won_deals, calls, reminder_tasks;
  std::map<std::string, int> failures;
  std::atomic<bool> stop{false};
  // An acknowledged write joins its list; a refused one counts under its service and code.
  auto record = [&](const std::string& service, const grpc::Status& status,
                    std::vector<std::string>& acknowledged, const std::string& name) {
    std::lock_guard<std::mutex> lock(mu);
    if (status.ok()) {
      acknowledged.push_back(name);
    } else {
      ++failures[absl::StrCat(service, " ", status.error_code())];
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        pipeline::v1::CreateDealRequest create;
        create.mutable_deal()->set_display_name(absl::StrCat("Deal ", w, "-", i));
        create.mutable_deal()->mutable_amount()->set_currency_code("USD");
        create.mutable_deal()->mutable_amount()->set_amount_minor(10000 + 100 * i + w);
        pipeline::v1::Deal deal;
        grpc::Status status = pipeline_stub->CreateDeal(AuthedContext(rep).get(), create, &deal);
        if (status.ok()) {
          pipeline::v1::MoveDealRequest move;
          move.set_name(deal.name());
          move.set_etag(deal.etag());
          move.set_stage(won_stage);
          status = pipeline_stub->MoveDeal(AuthedContext(rep).get(), move, &deal);
        }
        record("pipeline", status, won_deals, deal.name());
        contacts::v1::LogActivityRequest call;
        call.mutable_activity()->set_kind(contacts::v1::ACTIVITY_KIND_CALL);
        call.mutable_activity()->set_contact(kim.name());
        contacts::v1::Activity logged;
        status = contacts_stub->LogActivity(AuthedContext(rep).get(), call, &logged);
        record("contacts", status, calls, logged.name());
        tasks::v1::CreateTaskRequest new_task;
        new_task.mutable_task()->set_title(absl::StrCat("Task ", w, "-", i));
        *new_task.mutable_task()->mutable_reminder_time() = [] {
          google::protobuf::Timestamp t;
          t.set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Seconds(1)));
          return t;
        }();
        tasks::v1::Task task;
        status = tasks_stub->CreateTask(AuthedContext(rep).get(), new_task, &task);
        record("tasks", status, reminder_tasks, task.name());
        if (!status.ok()) absl::SleepFor(absl::Milliseconds(50));
      }
    });
  }
  for (Restartable* victim : {&contacts, &pipeline, &tasks, &reporting}) {
    absl::SleepFor(absl::Seconds(2));
    victim->KillAndRestart();
  }
  absl::SleepFor(absl::Seconds(3));
  stop = true;
  for (auto& t : workers) t.join();

  // Source truth, from each service's own tables.
  const auto count = [&](const std::string& sql) { return CountOf(*database, sql); };
  const int64_t won_count = count(
      "SELECT count(*) FROM pipeline.deals d JOIN pipeline.stages s ON s.tenant_id = d.tenant_id "
      "AND s.id = d.stage_id WHERE s.kind = 'won' AND d.delete_time IS NULL");
  const int64_t won_amount = count(
      "SELECT coalesce(sum(amount_minor), 0) FROM pipeline.deals d JOIN pipeline.stages s ON "
      "s.tenant_id = d.tenant_id AND s.id = d.stage_id WHERE s.kind = 'won' AND "
      "d.delete_time IS NULL");
  const int64_t call_count = count("SELECT count(*) FROM contacts.activities WHERE kind = 'call'");
  const int64_t task_count = count("SELECT count(*) FROM tasks.tasks");
  EXPECT_GE(won_count, static_cast<int64_t>(won_deals.size()));
  EXPECT_GE(call_count, static_cast<int64_t>(calls.size()));
  EXPECT_GE(task_count, static_cast<int64_t>(reminder_tasks.size()));
  ASSERT_GT(won_deals.size(), 5u);

  // Every acknowledged write is there: each call and task by id, each deal won.
  auto ids_of = [](const std::vector<std::string>& names) {
    std::vector<std::string> ids;
    for (const std::string& name : names) ids.push_back(name.substr(name.find('/') + 1));
    return absl::StrCat("'{", absl::StrJoin(ids, ","), "}'::uuid[]");
  };
  EXPECT_EQ(count("SELECT count(*) FROM contacts.activities WHERE id = ANY(" + ids_of(calls) + ")"),
            static_cast<int64_t>(calls.size()));
  EXPECT_EQ(
      count("SELECT count(*) FROM tasks.tasks WHERE id = ANY(" + ids_of(reminder_tasks) + ")"),
      static_cast<int64_t>(reminder_tasks.size()));
  // While a service was down its callers were told to retry, and nothing else.
  for (const auto& [what, n] : failures) {
    EXPECT_TRUE(absl::EndsWith(what, absl::StrCat(" ", grpc::StatusCode::UNAVAILABLE)))
        << n << " calls failed: " << what;
  }
  for (const std::string& name : won_deals) {
    const std::string id = name.substr(name.find('/') + 1);
    EXPECT_EQ(count("SELECT count(*) FROM pipeline.deals d JOIN pipeline.stages s ON s.tenant_id "
                    "= d.tenant_id AND s.id = d.stage_id WHERE s.kind = 'won' AND d.id = '" +
                    id + "'"),
              1)
        << name;
  }
  // Reports reconcile exactly with the sources: no event lost, none counted twice.
  auto report = [&](reporting::v1::ReportKind kind) {
    reporting::v1::RunReportRequest request;
    request.mutable_spec()->set_kind(kind);
    // Days that surely hold the whole run, even when it crosses a year's end.
    const auto [from, to] = testing::UtcRangeSince(test_start);
    request.mutable_spec()->set_period(reporting::v1::PERIOD_KIND_CUSTOM);
    request.mutable_spec()->set_from_date(from);
    request.mutable_spec()->set_to_date(to);
    reporting::v1::Report out;
    (void)reports_stub->RunReport(AuthedContext(rep).get(), request, &out);
    return out;
  };
  auto figures = [&] {
    const auto won_lost = report(reporting::v1::REPORT_KIND_WON_LOST);
    return std::vector<std::string>{
        TotalCell(won_lost, "won"), TotalCell(won_lost, "won_amount"),
        TotalCell(report(reporting::v1::REPORT_KIND_ACTIVITIES_BY_REP), "calls"),
        TotalCell(report(reporting::v1::REPORT_KIND_TASKS_BY_REP), "created")};
  };
  const std::vector<std::string> expected = {absl::StrCat(won_count), absl::StrCat(won_amount),
                                             absl::StrCat(call_count), absl::StrCat(task_count)};
  EXPECT_TRUE(WaitUntil([&] { return figures() == expected; }, absl::Seconds(30)))
      << "reports " << ::testing::PrintToString(figures()) << " vs sources "
      << ::testing::PrintToString(expected);

  // Every reminder fired once: one notification per task, none twice.
  const auto notified = [&] { return count("SELECT count(*) FROM tasks.notifications"); };
  EXPECT_TRUE(WaitUntil([&] { return notified() == task_count; }, absl::Seconds(30)))
      << notified() << " notifications for " << task_count << " reminders";
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(count("SELECT count(DISTINCT task_id) FROM tasks.notifications"), task_count);
  EXPECT_EQ(notified(), task_count);
  for (Restartable* service : {&contacts, &pipeline, &tasks, &reporting}) {
    EXPECT_TRUE(Alive(*service->process));
  }
  std::cout << "kill each service: won=" << won_count << " calls=" << call_count
            << " tasks=" << task_count << " acknowledged won=" << won_deals.size()
            << " calls=" << calls.size() << " reminders=" << reminder_tasks.size()
            << " failures=" << ::testing::PrintToString(failures) << "\n";
}

}  // namespace
}  // namespace crm
