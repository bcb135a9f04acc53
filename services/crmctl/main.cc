// crmctl: try the CRM from a terminal. Mint a local token, create, list and search contacts,
// move deals, plan tasks.
//
//   crmctl token --tenant acme --user alice --roles rep
//   export CRM_TOKEN=$(crmctl token --tenant acme --user alice --roles rep)
//   crmctl contacts create --given Anna --family Petrosyan --email anna@example.com
//       [--field tier=Gold,vip=yes]
//   crmctl contacts list [--json]
//   crmctl contacts get contacts/0190...
//   crmctl contacts delete contacts/0190...
//   crmctl contacts list --filter 'lifecycle_stage = CUSTOMER AND tags:vip'
//   crmctl contacts search petrosian
//   crmctl contacts import leads.csv [--mapping 'Mobile=phone'] [--dry_run]
//   crmctl contacts log contacts/0190... --kind call --subject "Intro call"
//   crmctl contacts timeline contacts/0190...
//   crmctl companies create --display_name Acme --domain acme.com
//   crmctl companies list
//   crmctl segments create --display_name Customers --filter 'lifecycle_stage = CUSTOMER'
//   crmctl segments list | count NAME | export NAME --out customers.csv
//       [--template 'Hi {{given_name}}']
//   crmctl pipelines list
//   crmctl deals create --display_name "Acme" --amount_minor 1000000 --currency AMD
//   crmctl deals list [--filter 'closed = false'] | move deals/ID --stage ID | history deals/ID
//   crmctl tasks create --title "Call Anna" --contact contacts/0190... --due +2h --remind +1h
//   crmctl tasks list --mine [--time_zone Asia/Yerevan] | done tasks/ID
//   crmctl notifications list | read notifications/ID
//   crmctl report won_lost --period month --group_by rep,period --csv won.csv --svg won.svg
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/authenticator.h"
#include "common/auth/jwt.h"
#include "common/config/env_flags.h"
#include "common/fields/custom_field_rules.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "services/crmctl/pipeline_commands.h"
#include "services/crmctl/report_commands.h"
#include "services/crmctl/rpc.h"
#include "services/crmctl/table.h"
#include "services/crmctl/task_commands.h"
#include "services/crmctl/transfer_commands.h"

ABSL_FLAG(std::string, contacts_addr, "127.0.0.1:50051", "contacts service host:port");
ABSL_FLAG(std::string, pipeline_addr, "127.0.0.1:50052", "pipeline service host:port");
ABSL_FLAG(std::string, tasks_addr, "127.0.0.1:50053", "tasks service host:port");
ABSL_FLAG(std::string, reporting_addr, "127.0.0.1:50054", "reporting service host:port");
ABSL_FLAG(std::string, period, "month",
          "report: week, month, quarter, year, fiscal_quarter, fiscal_year or custom");
ABSL_FLAG(std::string, anchor, "", "report: a day inside the period (default today)");
ABSL_FLAG(std::string, from, "", "report --period custom: first day (YYYY-MM-DD)");
ABSL_FLAG(std::string, to, "", "report --period custom: the day after the last");
ABSL_FLAG(std::string, group_by, "", "report: rep,stage,source,period,custom_fields.<key>");
ABSL_FLAG(std::string, sum, "", "report: custom_fields.<key>, a number or money field to sum");
ABSL_FLAG(std::string, bucket, "", "report: size of period groups (day, week, month, quarter)");
ABSL_FLAG(std::string, csv, "", "report: also write the report as CSV to this file");
ABSL_FLAG(std::string, svg, "", "report: also write a chart as SVG to this file");
ABSL_FLAG(std::string, chart, "", "report --svg: bar, stacked_bar, line or funnel");
ABSL_FLAG(std::string, title, "", "tasks create: what to do");
ABSL_FLAG(std::string, description, "", "tasks create: details");
ABSL_FLAG(std::string, assignee, "", "tasks create: user id (default: you)");
ABSL_FLAG(std::string, deal, "", "tasks create: deals/ID");
ABSL_FLAG(std::string, priority, "", "tasks create: low, normal, high or urgent");
ABSL_FLAG(std::string, due, "", "tasks create: due time, +30m/+2h/+3d or RFC 3339");
ABSL_FLAG(std::string, remind, "", "tasks create: reminder time, +30m/+2h/+3d or RFC 3339");
ABSL_FLAG(bool, mine, false, "tasks list: only my open tasks");
ABSL_FLAG(std::string, time_zone, "", "tasks: IANA time zone for due_today and display");
ABSL_FLAG(std::string, stage, "", "deals move: target stage id (see `crmctl pipelines list`)");
ABSL_FLAG(std::string, lost_reason, "", "deals move: why the deal was lost");
ABSL_FLAG(bool, reopen, false, "deals move: reopen a closed deal");
ABSL_FLAG(int64_t, amount_minor, 0, "deals create: amount in minor units (cents)");
ABSL_FLAG(std::string, currency, "", "deals create: ISO 4217 currency");
ABSL_FLAG(std::string, contact, "", "deals create: contacts/ID");
ABSL_FLAG(std::string, token, "", "Bearer token (or CRM_TOKEN); mint one with `crmctl token`");
ABSL_FLAG(bool, json, false, "Print machine-readable JSON instead of a table");
ABSL_FLAG(int, timeout_seconds, 10, "Deadline for each call");
// `token` subcommand.
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file (or CRM_JWT_SECRET)");
ABSL_FLAG(std::string, tenant, "", "token: tenant id");
ABSL_FLAG(std::string, user, "", "token: user id");
ABSL_FLAG(std::string, roles, "rep", "token: comma-separated roles (rep, manager, admin, service)");
ABSL_FLAG(int, ttl_hours, 24, "token: hours until the token expires");
// Record fields for `create`.
ABSL_FLAG(std::string, given, "", "contact given name");
ABSL_FLAG(std::string, family, "", "contact family name");
ABSL_FLAG(std::vector<std::string>, email, {}, "contact emails, comma-separated");
ABSL_FLAG(std::vector<std::string>, phone, {}, "contact phones, comma-separated");
ABSL_FLAG(std::vector<std::string>, field, {},
          "contacts create: custom field values key=value, comma-separated (selects by label or "
          "id, multi-select ids joined by ';')");
ABSL_FLAG(std::string, company, "", "contact company (companies/...)");
ABSL_FLAG(std::string, display_name, "", "company name");
ABSL_FLAG(std::string, domain, "", "company web domain");
ABSL_FLAG(std::string, owner, "", "owner user id (default: you)");
ABSL_FLAG(std::string, request_id, "", "idempotency key for create");
ABSL_FLAG(int, page_size, 50, "list: rows per page");
ABSL_FLAG(std::string, filter, "", "list: AIP-160 filter; segments create: the segment's filter");
ABSL_FLAG(std::string, import_id, "", "import: idempotency key (default: from file name and size)");
ABSL_FLAG(std::string, mapping, "", "import: column mapping, e.g. 'Mobile=phone,Org=company'");
ABSL_FLAG(bool, dry_run, false, "import: validate and report without writing");
ABSL_FLAG(std::string, out, "", "export: output file (default stdout)");
ABSL_FLAG(std::string, template, "", "export: message template, e.g. 'Hello {{given_name}}'");
ABSL_FLAG(std::string, kind, "call", "log: call, email, meeting or note");
ABSL_FLAG(std::string, subject, "", "log: subject line");
ABSL_FLAG(std::string, outcome, "", "log: outcome, e.g. 'no answer'");
ABSL_FLAG(std::string, page_token, "", "list: continue from this token");

namespace crm::ctl {
namespace {

namespace v1 = crm::contacts::v1;

constexpr char kUsage[] =
    "crmctl <command> [flags]\n"
    "  token --tenant T --user U --roles rep[,manager,admin]\n"
    "  contacts create|get|list|delete|search|import|log|timeline ...\n"
    "  segments create|list|count|export ...\n"
    "  pipelines list; deals create|list|move|history ...\n"
    "  tasks create|list|done ...; notifications list|read ...\n"
    "  report <kind> --period month [--csv FILE] [--svg FILE] ...\n"
    "  companies create|get|list ...\n"
    "Flags also come from the environment: CRM_TOKEN, CRM_CONTACTS_ADDR, CRM_JWT_SECRET.";

bool Colour() { return isatty(STDOUT_FILENO) == 1; }

int FailRpc(const grpc::Status& status) {
  return crm::ctl::FailRpc(status, "is the contacts service running (make run)? --contacts_addr=" +
                                       absl::GetFlag(FLAGS_contacts_addr));
}

std::unique_ptr<grpc::ClientContext> Context() {
  return CallContext(absl::GetFlag(FLAGS_token), absl::GetFlag(FLAGS_timeout_seconds));
}

int Token() {
  auto secret = auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
  if (!secret.ok() || secret->empty()) {
    return Fail("no signing secret: pass --jwt_secret=@.run/jwt.secret or set CRM_JWT_SECRET");
  }
  auth::Claims claims;
  claims.tenant = absl::GetFlag(FLAGS_tenant);
  claims.subject = absl::GetFlag(FLAGS_user);
  if (claims.tenant.empty() || claims.subject.empty())
    return Fail("--tenant and --user are required");
  claims.roles = absl::StrSplit(absl::GetFlag(FLAGS_roles), ',', absl::SkipEmpty());
  claims.expires = absl::Now() + absl::Hours(absl::GetFlag(FLAGS_ttl_hours));
  std::cout << auth::SignHs256(claims, *secret) << "\n";
  return 0;
}

// "key=value" pairs in key order, as --field takes them.
std::string CustomFieldsCell(const crm::fields::Values& values) {
  std::map<std::string, std::string> sorted;
  for (const auto& [key, value] : values) sorted[key] = crm::fields::ValueToText(value);
  return absl::StrJoin(sorted, " ", absl::PairFormatter("="));
}

void AddContactRow(Table& table, const v1::Contact& c) {
  table.AddRow({c.name(), absl::StrCat(c.given_name(), " ", c.family_name()),
                absl::StrJoin(c.emails(), ","), absl::StrJoin(c.phones(), ","), c.owner(),
                CustomFieldsCell(c.custom_fields())});
}

// --field key=value,... typed by the tenant's custom fields of contacts.
absl::StatusOr<crm::fields::Values> FieldFlags(v1::ContactsService::Stub& stub) {
  const std::vector<std::string> assignments = absl::GetFlag(FLAGS_field);
  if (assignments.empty()) return crm::fields::Values();
  crm::common::v1::ListCustomFieldsRequest request;
  request.set_parent("objectTypes/contact");
  crm::common::v1::ListCustomFieldsResponse defined;
  grpc::Status status = stub.ListCustomFields(Context().get(), request, &defined);
  if (!status.ok())
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const std::vector<crm::fields::Definition> definitions(defined.custom_fields().begin(),
                                                         defined.custom_fields().end());
  return crm::fields::ValuesFromAssignments(definitions, assignments, "--field");
}

int Contacts(v1::ContactsService::Stub& stub, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  const bool json = absl::GetFlag(FLAGS_json);
  Table table({"NAME", "PERSON", "EMAILS", "PHONES", "OWNER", "FIELDS"});
  if (verb == "create") {
    v1::CreateContactRequest request;
    v1::Contact* c = request.mutable_contact();
    absl::StatusOr<crm::fields::Values> values = FieldFlags(stub);
    if (!values.ok()) return Fail(std::string(values.status().message()));
    *c->mutable_custom_fields() = *std::move(values);
    c->set_given_name(absl::GetFlag(FLAGS_given));
    c->set_family_name(absl::GetFlag(FLAGS_family));
    for (const auto& e : absl::GetFlag(FLAGS_email)) c->add_emails(e);
    for (const auto& p : absl::GetFlag(FLAGS_phone)) c->add_phones(p);
    c->set_company(absl::GetFlag(FLAGS_company));
    c->set_owner(absl::GetFlag(FLAGS_owner));
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::Contact out;
    grpc::Status status = stub.CreateContact(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    AddContactRow(table, out);
  } else if (verb == "get" || verb == "delete") {
    if (args.size() < 4) return Fail(absl::StrCat("usage: crmctl contacts ", verb, " contacts/ID"));
    if (verb == "delete") {
      v1::DeleteContactRequest request;
      request.set_name(args[3]);
      google::protobuf::Empty out;
      grpc::Status status = stub.DeleteContact(Context().get(), request, &out);
      if (!status.ok()) return FailRpc(status);
      std::cout << "deleted " << args[3] << "\n";
      return 0;
    }
    v1::GetContactRequest request;
    request.set_name(args[3]);
    v1::Contact out;
    grpc::Status status = stub.GetContact(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    AddContactRow(table, out);
  } else if (verb == "search") {
    if (args.size() < 4) return Fail("usage: crmctl contacts search QUERY");
    v1::SearchContactsRequest request;
    request.set_query(args[3]);
    request.set_page_size(std::min(absl::GetFlag(FLAGS_page_size), 100));
    v1::SearchContactsResponse out;
    grpc::Status status = stub.SearchContacts(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    Table results({"SCORE", "NAME", "PERSON", "EMAILS", "PHONES", "OWNER"});
    for (const auto& r : out.results()) {
      const auto& c = r.contact();
      results.AddRow({absl::StrFormat("%.2f", r.score()), c.name(),
                      absl::StrCat(c.given_name(), " ", c.family_name()),
                      absl::StrJoin(c.emails(), ","), absl::StrJoin(c.phones(), ","), c.owner()});
    }
    std::cout << results.Render(Colour());
    return 0;
  } else if (verb == "import") {
    if (args.size() < 4) return Fail("usage: crmctl contacts import FILE.csv");
    TransferOptions options;
    options.token = absl::GetFlag(FLAGS_token);
    options.json = json;
    options.colour = Colour();
    options.import_id = absl::GetFlag(FLAGS_import_id);
    options.mapping = absl::GetFlag(FLAGS_mapping);
    options.dry_run = absl::GetFlag(FLAGS_dry_run);
    return ImportContactsFile(stub, args[3], options);
  } else if (verb == "log") {
    if (args.size() < 4) return Fail("usage: crmctl contacts log contacts/ID --kind call");
    v1::LogActivityRequest request;
    v1::ActivityKind kind = v1::ACTIVITY_KIND_UNSPECIFIED;
    v1::ActivityKind_Parse("ACTIVITY_KIND_" + absl::AsciiStrToUpper(absl::GetFlag(FLAGS_kind)),
                           &kind);
    request.mutable_activity()->set_kind(kind);
    request.mutable_activity()->set_contact(args[3]);
    request.mutable_activity()->set_subject(absl::GetFlag(FLAGS_subject));
    request.mutable_activity()->set_outcome(absl::GetFlag(FLAGS_outcome));
    v1::Activity out;
    grpc::Status status = stub.LogActivity(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    std::cout << "logged " << out.name() << "\n";
    return 0;
  } else if (verb == "timeline") {
    if (args.size() < 4) return Fail("usage: crmctl contacts timeline contacts/ID");
    v1::ListActivitiesRequest request;
    request.set_parent(args[3]);
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListActivitiesResponse out;
    grpc::Status status = stub.ListActivities(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    Table timeline({"WHEN", "KIND", "BY", "SUBJECT", "OUTCOME"});
    for (const auto& a : out.activities()) {
      timeline.AddRow(
          {absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(a.occur_time().seconds()),
                            absl::LocalTimeZone()),
           absl::AsciiStrToLower(v1::ActivityKind_Name(a.kind()).substr(14)), a.author(),
           a.subject(), a.outcome()});
    }
    std::cout << timeline.Render(Colour());
    return 0;
  } else if (verb == "list") {
    v1::ListContactsRequest request;
    request.set_filter(absl::GetFlag(FLAGS_filter));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListContactsResponse out;
    grpc::Status status = stub.ListContacts(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    for (const auto& c : out.contacts()) AddContactRow(table, c);
    std::cout << table.Render(Colour());
    if (!out.next_page_token().empty()) {
      std::cout << "more: --page_token=" << out.next_page_token() << "\n";
    }
    return 0;
  } else {
    return Fail("usage: crmctl contacts create|get|list|delete|search|import|log|timeline");
  }
  std::cout << table.Render(Colour());
  return 0;
}

int Companies(v1::ContactsService::Stub& stub, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  const bool json = absl::GetFlag(FLAGS_json);
  Table table({"NAME", "COMPANY", "DOMAIN", "OWNER"});
  auto add = [&](const v1::Company& c) {
    table.AddRow({c.name(), c.display_name(), c.domain(), c.owner()});
  };
  if (verb == "create") {
    v1::CreateCompanyRequest request;
    request.mutable_company()->set_display_name(absl::GetFlag(FLAGS_display_name));
    request.mutable_company()->set_domain(absl::GetFlag(FLAGS_domain));
    request.mutable_company()->set_owner(absl::GetFlag(FLAGS_owner));
    request.set_request_id(absl::GetFlag(FLAGS_request_id));
    v1::Company out;
    grpc::Status status = stub.CreateCompany(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    add(out);
  } else if (verb == "get") {
    if (args.size() < 4) return Fail("usage: crmctl companies get companies/ID");
    v1::GetCompanyRequest request;
    request.set_name(args[3]);
    v1::Company out;
    grpc::Status status = stub.GetCompany(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    add(out);
  } else if (verb == "list") {
    v1::ListCompaniesRequest request;
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    v1::ListCompaniesResponse out;
    grpc::Status status = stub.ListCompanies(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    for (const auto& c : out.companies()) add(c);
  } else {
    return Fail("usage: crmctl companies create|get|list");
  }
  std::cout << table.Render(Colour());
  return 0;
}

int Segments(v1::ContactsService::Stub& stub, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  const bool json = absl::GetFlag(FLAGS_json);
  Table table({"NAME", "SEGMENT", "FILTER", "OWNER"});
  auto add = [&](const v1::Segment& s) {
    table.AddRow({s.name(), s.display_name(), s.filter(), s.owner()});
  };
  if (verb == "create") {
    v1::CreateSegmentRequest request;
    request.mutable_segment()->set_display_name(absl::GetFlag(FLAGS_display_name));
    request.mutable_segment()->set_filter(absl::GetFlag(FLAGS_filter));
    v1::Segment out;
    grpc::Status status = stub.CreateSegment(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    add(out);
  } else if (verb == "list") {
    v1::ListSegmentsRequest request;
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    v1::ListSegmentsResponse out;
    grpc::Status status = stub.ListSegments(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    if (json) return PrintJson(out), 0;
    for (const auto& s : out.segments()) add(s);
  } else if (verb == "count") {
    if (args.size() < 4) return Fail("usage: crmctl segments count segments/ID");
    v1::CountSegmentRequest request;
    request.set_name(args[3]);
    v1::CountSegmentResponse out;
    grpc::Status status = stub.CountSegment(Context().get(), request, &out);
    if (!status.ok()) return FailRpc(status);
    std::cout << out.count() << "\n";
    return 0;
  } else if (verb == "export") {
    if (args.size() < 4) return Fail("usage: crmctl segments export segments/ID --out FILE.csv");
    TransferOptions options;
    options.token = absl::GetFlag(FLAGS_token);
    options.out = absl::GetFlag(FLAGS_out);
    options.message_template = absl::GetFlag(FLAGS_template);
    return ExportSegment(stub, args[3], options);
  } else {
    return Fail("usage: crmctl segments create|list|count|export");
  }
  std::cout << table.Render(Colour());
  return 0;
}

}  // namespace
}  // namespace crm::ctl

int main(int argc, char** argv) {
  std::vector<char*> args = crm::config::ParseFlagsWithEnv(argc, argv, crm::ctl::kUsage);
  const std::string command = args.size() > 1 ? args[1] : "";
  if (command == "token") return crm::ctl::Token();
  if (command == "pipelines" || command == "deals") {
    auto pipeline = crm::pipeline::v1::PipelineService::NewStub(grpc::CreateChannel(
        absl::GetFlag(FLAGS_pipeline_addr), grpc::InsecureChannelCredentials()));
    crm::ctl::PipelineCommandOptions options;
    options.token = absl::GetFlag(FLAGS_token);
    options.json = absl::GetFlag(FLAGS_json);
    options.colour = isatty(STDOUT_FILENO) == 1;
    options.timeout_seconds = absl::GetFlag(FLAGS_timeout_seconds);
    options.display_name = absl::GetFlag(FLAGS_display_name);
    options.contact = absl::GetFlag(FLAGS_contact);
    options.company = absl::GetFlag(FLAGS_company);
    options.currency = absl::GetFlag(FLAGS_currency);
    options.amount_minor = absl::GetFlag(FLAGS_amount_minor);
    options.stage = absl::GetFlag(FLAGS_stage);
    options.lost_reason = absl::GetFlag(FLAGS_lost_reason);
    options.reopen = absl::GetFlag(FLAGS_reopen);
    options.filter = absl::GetFlag(FLAGS_filter);
    return command == "pipelines" ? crm::ctl::Pipelines(*pipeline, args, options)
                                  : crm::ctl::Deals(*pipeline, args, options);
  }
  if (command == "report") {
    auto reporting = crm::reporting::v1::ReportingService::NewStub(grpc::CreateChannel(
        absl::GetFlag(FLAGS_reporting_addr), grpc::InsecureChannelCredentials()));
    crm::ctl::ReportCommandOptions options;
    options.token = absl::GetFlag(FLAGS_token);
    options.json = absl::GetFlag(FLAGS_json);
    options.colour = isatty(STDOUT_FILENO) == 1;
    options.timeout_seconds = std::max(30, absl::GetFlag(FLAGS_timeout_seconds));
    options.period = absl::GetFlag(FLAGS_period);
    options.anchor = absl::GetFlag(FLAGS_anchor);
    options.from = absl::GetFlag(FLAGS_from);
    options.to = absl::GetFlag(FLAGS_to);
    options.group_by = absl::GetFlag(FLAGS_group_by);
    options.sum = absl::GetFlag(FLAGS_sum);
    options.bucket = absl::GetFlag(FLAGS_bucket);
    options.csv_path = absl::GetFlag(FLAGS_csv);
    options.svg_path = absl::GetFlag(FLAGS_svg);
    options.chart = absl::GetFlag(FLAGS_chart);
    return crm::ctl::Report(*reporting, args, options);
  }
  if (command == "tasks" || command == "notifications") {
    auto tasks = crm::tasks::v1::TasksService::NewStub(
        grpc::CreateChannel(absl::GetFlag(FLAGS_tasks_addr), grpc::InsecureChannelCredentials()));
    crm::ctl::TaskCommandOptions options;
    options.token = absl::GetFlag(FLAGS_token);
    options.json = absl::GetFlag(FLAGS_json);
    options.colour = isatty(STDOUT_FILENO) == 1;
    options.timeout_seconds = absl::GetFlag(FLAGS_timeout_seconds);
    options.title = absl::GetFlag(FLAGS_title);
    options.description = absl::GetFlag(FLAGS_description);
    options.assignee = absl::GetFlag(FLAGS_assignee);
    options.contact = absl::GetFlag(FLAGS_contact);
    options.company = absl::GetFlag(FLAGS_company);
    options.deal = absl::GetFlag(FLAGS_deal);
    options.priority = absl::GetFlag(FLAGS_priority);
    options.due = absl::GetFlag(FLAGS_due);
    options.remind = absl::GetFlag(FLAGS_remind);
    options.mine = absl::GetFlag(FLAGS_mine);
    options.filter = absl::GetFlag(FLAGS_filter);
    options.time_zone = absl::GetFlag(FLAGS_time_zone);
    return command == "tasks" ? crm::ctl::Tasks(*tasks, args, options)
                              : crm::ctl::Notifications(*tasks, args, options);
  }
  grpc::ChannelArguments channel_args;
  // Import reports list every row: allow large responses.
  channel_args.SetMaxReceiveMessageSize(512 << 20);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_contacts_addr),
                                           grpc::InsecureChannelCredentials(), channel_args);
  auto stub = crm::contacts::v1::ContactsService::NewStub(channel);
  if (command == "contacts") return crm::ctl::Contacts(*stub, args);
  if (command == "companies") return crm::ctl::Companies(*stub, args);
  if (command == "segments") return crm::ctl::Segments(*stub, args);
  std::cerr << crm::ctl::kUsage << "\n";
  return 2;
}
