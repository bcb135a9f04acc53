#include "services/crmctl/pipeline_commands.h"

#include <google/protobuf/util/json_util.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/crmctl/rpc.h"
#include "services/crmctl/table.h"

namespace crm::ctl {
namespace {

namespace v1 = crm::pipeline::v1;

std::unique_ptr<grpc::ClientContext> Context(const PipelineCommandOptions& options) {
  return CallContext(options.token, options.timeout_seconds);
}

int FailRpc(const grpc::Status& status) {
  return ctl::FailRpc(status, "is the pipeline service running (make run)? see --pipeline_addr");
}

std::string Money(const crm::common::v1::Money& m) {
  return absl::StrFormat("%d.%02d %s", m.amount_minor() / 100, std::abs(m.amount_minor() % 100),
                         m.currency_code());
}

// Stage id -> name, from the deal's pipeline.
std::string StageName(v1::PipelineService::Stub& stub, const PipelineCommandOptions& options,
                      const v1::Deal& deal) {
  v1::GetPipelineRequest request;
  request.set_name(deal.pipeline());
  v1::Pipeline pipeline;
  if (!stub.GetPipeline(Context(options).get(), request, &pipeline).ok()) return deal.stage();
  for (const auto& s : pipeline.stages()) {
    if (s.id() == deal.stage()) return s.display_name();
  }
  return deal.stage();
}

void AddDealRow(Table& table, const std::string& stage, const v1::Deal& d) {
  table.AddRow({d.name(), d.display_name(), stage, Money(d.amount()),
                absl::StrCat(d.probability_percent(), "%"), d.owner(), d.etag()});
}

}  // namespace

int Pipelines(v1::PipelineService::Stub& stub, const std::vector<char*>& args,
              const PipelineCommandOptions& options) {
  const std::string verb = args.size() > 2 ? args[2] : "list";
  if (verb != "list") return Fail("usage: crmctl pipelines list");
  v1::ListPipelinesResponse response;
  grpc::Status status = stub.ListPipelines(Context(options).get(), {}, &response);
  if (!status.ok()) return FailRpc(status);
  if (options.json) return PrintJson(response);
  for (const auto& p : response.pipelines()) {
    std::cout << p.name() << "  " << p.display_name() << (p.is_default() ? "  (default)" : "")
              << "\n";
    Table stages({"STAGE ID", "STAGE", "PROBABILITY", "KIND"});
    for (const auto& s : p.stages()) {
      stages.AddRow({s.id(), s.display_name(), absl::StrCat(s.probability_percent(), "%"),
                     v1::StageKind_Name(s.kind()).substr(11)});
    }
    std::cout << stages.Render(options.colour) << "\n";
  }
  return 0;
}

int Deals(v1::PipelineService::Stub& stub, const std::vector<char*>& args,
          const PipelineCommandOptions& options) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  Table table({"NAME", "DEAL", "STAGE", "AMOUNT", "PROB", "OWNER", "ETAG"});
  if (verb == "create") {
    v1::CreateDealRequest request;
    v1::Deal* deal = request.mutable_deal();
    deal->set_display_name(options.display_name);
    deal->set_contact(options.contact);
    deal->set_company(options.company);
    deal->mutable_amount()->set_amount_minor(options.amount_minor);
    deal->mutable_amount()->set_currency_code(options.currency);
    v1::Deal out;
    grpc::Status status = stub.CreateDeal(Context(options).get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(out);
    AddDealRow(table, StageName(stub, options, out), out);
  } else if (verb == "list") {
    v1::ListDealsRequest request;
    request.set_filter(options.filter);
    request.set_page_size(200);
    v1::ListDealsResponse out;
    grpc::Status status = stub.ListDeals(Context(options).get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(out);
    for (const auto& d : out.deals()) AddDealRow(table, d.stage(), d);
  } else if (verb == "move") {
    if (args.size() < 4) return Fail("usage: crmctl deals move deals/ID --stage STAGE_ID");
    v1::GetDealRequest get;
    get.set_name(args[3]);
    v1::Deal current;
    grpc::Status status = stub.GetDeal(Context(options).get(), get, &current);
    if (!status.ok()) return FailRpc(status);
    v1::MoveDealRequest request;
    request.set_name(args[3]);
    request.set_stage(options.stage);
    request.set_etag(current.etag());
    request.set_lost_reason(options.lost_reason);
    request.set_reopen(options.reopen);
    v1::Deal out;
    status = stub.MoveDeal(Context(options).get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(out);
    AddDealRow(table, StageName(stub, options, out), out);
  } else if (verb == "history") {
    if (args.size() < 4) return Fail("usage: crmctl deals history deals/ID");
    v1::ListStageHistoryRequest request;
    request.set_name(args[3]);
    v1::ListStageHistoryResponse out;
    grpc::Status status = stub.ListStageHistory(Context(options).get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (options.json) return PrintJson(out);
    Table history({"WHEN (UTC)", "FROM", "TO", "BY"});
    for (const auto& c : out.changes()) {
      history.AddRow(
          {absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(c.change_time().seconds()),
                            absl::UTCTimeZone()),
           c.from_stage(), c.to_stage(), c.actor()});
    }
    std::cout << history.Render(options.colour);
    return 0;
  } else {
    return Fail("usage: crmctl deals create|list|move|history");
  }
  std::cout << table.Render(options.colour);
  return 0;
}

}  // namespace crm::ctl
