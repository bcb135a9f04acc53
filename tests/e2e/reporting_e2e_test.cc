// End to end: the four real services on one PostgreSQL. Deals won, tasks made and calls logged
// through the other services reach the reports through the event streams; a rebuild from
// position 0 reproduces the same figures.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/testing/calendar.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/wait.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "crm/pipeline/v1/pipeline_service.grpc.pb.h"
#include "crm/reporting/v1/reporting_service.grpc.pb.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

namespace crm {
namespace {

using testing::WaitUntil;

using testing::AuthedContext;
using testing::ServiceProcess;

const std::string& kSecret = testing::kJwtSecretFlag;
const std::string& kServiceSecret = testing::kServiceSecretFlag;

// The test's whole run, even when it crosses a month's end.
const absl::Time kTestStart = absl::Now();

reporting::v1::Report RunReport(reporting::v1::ReportingService::Stub& stub,
                                const std::string& token, reporting::v1::ReportKind kind) {
  reporting::v1::RunReportRequest request;
  request.mutable_spec()->set_kind(kind);
  const auto [from, to] = testing::UtcRangeSince(kTestStart);
  request.mutable_spec()->set_period(reporting::v1::PERIOD_KIND_CUSTOM);
  request.mutable_spec()->set_from_date(from);
  request.mutable_spec()->set_to_date(to);
  reporting::v1::Report report;
  grpc::Status status = stub.RunReport(AuthedContext(token).get(), request, &report);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return report;
}

// The totals row's cell under column `name`.
std::string Total(const reporting::v1::Report& report, const std::string& name) {
  for (int i = 0; i < report.columns_size(); ++i) {
    if (report.columns(i).name() == name && i < report.totals().cells_size()) {
      return report.totals().cells(i);
    }
  }
  return "";
}

TEST(ReportingE2eTest, ChangesInTheOtherServicesReachTheReportsAndARebuildReproducesThem) {
  auto database = testing::TestDatabase::Create();
  ASSERT_TRUE(database.ok()) << database.status();
  auto contacts_process = ServiceProcess::Start(
      CRM_CONTACTS_BIN, {"--db_url=" + database->ConnInfo("contacts"), kSecret, kServiceSecret},
      absl::Seconds(30));
  ASSERT_TRUE(contacts_process.ok()) << contacts_process.status();
  const std::string contacts_address =
      absl::StrCat("--contacts_address=127.0.0.1:", (*contacts_process)->grpc_port());
  auto pipeline_process = ServiceProcess::Start(
      CRM_PIPELINE_BIN,
      {"--db_url=" + database->ConnInfo("pipeline"), kSecret, kServiceSecret, contacts_address},
      absl::Seconds(30));
  ASSERT_TRUE(pipeline_process.ok()) << pipeline_process.status();
  const std::string pipeline_address =
      absl::StrCat("--pipeline_address=127.0.0.1:", (*pipeline_process)->grpc_port());
  auto tasks_process = ServiceProcess::Start(CRM_TASKS_BIN,
                                             {"--db_url=" + database->ConnInfo("tasks"), kSecret,
                                              kServiceSecret, contacts_address, pipeline_address},
                                             absl::Seconds(30));
  ASSERT_TRUE(tasks_process.ok()) << tasks_process.status();
  const std::vector<std::string> reporting_args = {
      "--db_url=" + database->ConnInfo("reporting"),
      kSecret,
      kServiceSecret,
      contacts_address,
      pipeline_address,
      absl::StrCat("--tasks_address=127.0.0.1:", (*tasks_process)->grpc_port())};
  auto reporting_process =
      ServiceProcess::Start(CRM_REPORTING_BIN, reporting_args, absl::Seconds(30));
  ASSERT_TRUE(reporting_process.ok()) << reporting_process.status();

  auto contacts = contacts::v1::ContactsService::NewStub(
      testing::LocalChannel((*contacts_process)->grpc_port()));
  auto pipeline = pipeline::v1::PipelineService::NewStub(
      testing::LocalChannel((*pipeline_process)->grpc_port()));
  auto tasks =
      tasks::v1::TasksService::NewStub(testing::LocalChannel((*tasks_process)->grpc_port()));
  auto reports = reporting::v1::ReportingService::NewStub(
      testing::LocalChannel((*reporting_process)->grpc_port()));
  const std::string rep = testing::MintToken("acme", "alice", {"rep"});

  contacts::v1::CreateContactRequest new_contact;
  new_contact.mutable_contact()->set_given_name("Anna");
  new_contact.mutable_contact()->add_emails("anna@acme.example");
  new_contact.mutable_contact()->set_lead_source(contacts::v1::LEAD_SOURCE_REFERRAL);
  contacts::v1::Contact anna;
  ASSERT_TRUE(contacts->CreateContact(AuthedContext(rep).get(), new_contact, &anna).ok());
  contacts::v1::LogActivityRequest call;
  call.mutable_activity()->set_kind(contacts::v1::ACTIVITY_KIND_CALL);
  call.mutable_activity()->set_contact(anna.name());
  contacts::v1::Activity logged;
  ASSERT_TRUE(contacts->LogActivity(AuthedContext(rep).get(), call, &logged).ok());

  // Two deals: one won for 1,250.00 USD, one left open.
  pipeline::v1::Deal won, open;
  for (auto* deal : {&won, &open}) {
    pipeline::v1::CreateDealRequest create;
    create.mutable_deal()->set_display_name("Acme");
    create.mutable_deal()->mutable_amount()->set_amount_minor(125000);
    create.mutable_deal()->mutable_amount()->set_currency_code("USD");
    create.mutable_deal()->set_contact(anna.name());
    ASSERT_TRUE(pipeline->CreateDeal(AuthedContext(rep).get(), create, deal).ok());
  }
  pipeline::v1::GetPipelineRequest get_pipeline;
  get_pipeline.set_name(won.pipeline());
  pipeline::v1::Pipeline stages;
  ASSERT_TRUE(pipeline->GetPipeline(AuthedContext(rep).get(), get_pipeline, &stages).ok());
  pipeline::v1::MoveDealRequest move;
  move.set_name(won.name());
  move.set_etag(won.etag());
  for (const auto& stage : stages.stages()) {
    if (stage.kind() == pipeline::v1::STAGE_KIND_WON) move.set_stage(stage.id());
  }
  ASSERT_TRUE(pipeline->MoveDeal(AuthedContext(rep).get(), move, &won).ok());

  tasks::v1::CreateTaskRequest new_task;
  new_task.mutable_task()->set_title("Send the contract");
  tasks::v1::Task task;
  ASSERT_TRUE(tasks->CreateTask(AuthedContext(rep).get(), new_task, &task).ok());

  auto figures = [&] {
    return std::vector<std::string>{
        Total(RunReport(*reports, rep, reporting::v1::REPORT_KIND_WON_LOST), "won"),
        Total(RunReport(*reports, rep, reporting::v1::REPORT_KIND_WON_LOST), "won_amount"),
        Total(RunReport(*reports, rep, reporting::v1::REPORT_KIND_ACTIVITIES_BY_REP), "calls"),
        Total(RunReport(*reports, rep, reporting::v1::REPORT_KIND_TASKS_BY_REP), "created"),
        Total(RunReport(*reports, rep, reporting::v1::REPORT_KIND_LEADS_BY_SOURCE), "leads")};
  };
  const std::vector<std::string> expected = {"1", "125000", "1", "1", "1"};
  ASSERT_TRUE(WaitUntil([&] { return figures() == expected; }, absl::Seconds(30)))
      << "figures: " << absl::StrJoin(figures(), ",");
  const auto report = RunReport(*reports, rep, reporting::v1::REPORT_KIND_WON_LOST);
  for (const auto& f : report.freshness()) {
    EXPECT_GT(f.position(), 0) << f.source();
  }

  // Rebuild: empty read models, replay from position 0, the same figures.
  ASSERT_TRUE((*reporting_process)->StopWith(SIGTERM, absl::Seconds(20)).ok());
  std::vector<std::string> rebuild_args = reporting_args;
  rebuild_args.push_back("--rebuild_read_models");
  auto rebuilt = ServiceProcess::Start(CRM_REPORTING_BIN, rebuild_args, absl::Seconds(30));
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  reports =
      reporting::v1::ReportingService::NewStub(testing::LocalChannel((*rebuilt)->grpc_port()));
  EXPECT_TRUE(WaitUntil([&] { return figures() == expected; }, absl::Seconds(30)))
      << "figures: " << absl::StrJoin(figures(), ",");

  for (auto* process :
       {rebuilt->get(), tasks_process->get(), pipeline_process->get(), contacts_process->get()}) {
    auto exit_status = process->StopWith(SIGTERM, absl::Seconds(20));
    ASSERT_TRUE(exit_status.ok()) << exit_status.status();
    EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0);
  }
}

}  // namespace
}  // namespace crm
