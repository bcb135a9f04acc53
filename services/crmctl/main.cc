// crmctl: try the CRM from a terminal. Mint a local token, create, list and search contacts.
//
//   crmctl token --tenant acme --user alice --roles rep
//   export CRM_TOKEN=$(crmctl token --tenant acme --user alice --roles rep)
//   crmctl contacts create --given Anna --family Petrosyan --email anna@example.com
//   crmctl contacts list [--json]
//   crmctl contacts get contacts/0190...
//   crmctl contacts delete contacts/0190...
//   crmctl companies create --display-name Acme --domain acme.com
//   crmctl companies list
#include <unistd.h>

#include <iostream>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/auth/authenticator.h"
#include "common/auth/jwt.h"
#include "common/config/env_flags.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "services/crmctl/table.h"

ABSL_FLAG(std::string, contacts_addr, "127.0.0.1:50051", "contacts service host:port");
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
ABSL_FLAG(std::string, company, "", "contact company (companies/...)");
ABSL_FLAG(std::string, display_name, "", "company name");
ABSL_FLAG(std::string, domain, "", "company web domain");
ABSL_FLAG(std::string, owner, "", "owner user id (default: you)");
ABSL_FLAG(std::string, request_id, "", "idempotency key for create");
ABSL_FLAG(int, page_size, 50, "list: rows per page");
ABSL_FLAG(std::string, page_token, "", "list: continue from this token");

namespace crm::ctl {
namespace {

namespace v1 = crm::contacts::v1;

constexpr char kUsage[] =
    "crmctl <command> [flags]\n"
    "  token --tenant T --user U --roles rep[,manager,admin]\n"
    "  contacts create|get|list|delete ...\n"
    "  companies create|get|list ...\n"
    "Flags also come from the environment: CRM_TOKEN, CRM_CONTACTS_ADDR, CRM_JWT_SECRET.";

bool Colour() { return isatty(STDOUT_FILENO) == 1; }

int Fail(const std::string& message) {
  std::cerr << "crmctl: " << message << "\n";
  return 1;
}

int FailRpc(const grpc::Status& status) {
  std::string hint;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      hint = "\n  hint: export CRM_TOKEN=$(crmctl token --tenant acme --user alice --roles rep)";
      break;
    case grpc::StatusCode::UNAVAILABLE:
      hint = "\n  hint: is the service running (make run)? --contacts_addr=" +
             absl::GetFlag(FLAGS_contacts_addr);
      break;
    default:
      break;
  }
  return Fail(absl::StrCat(status.error_message(), " (", status.error_code(), ")", hint));
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  const std::string token = absl::GetFlag(FLAGS_token);
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(absl::GetFlag(FLAGS_timeout_seconds)));
  return context;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
}

int Token() {
  auto secret = auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
  if (!secret.ok() || secret->empty()) {
    return Fail("no signing secret: pass --jwt_secret=@.run/jwt.secret or set CRM_JWT_SECRET");
  }
  auth::Claims claims;
  claims.tenant = absl::GetFlag(FLAGS_tenant);
  claims.subject = absl::GetFlag(FLAGS_user);
  if (claims.tenant.empty() || claims.subject.empty()) return Fail("--tenant and --user are required");
  claims.roles = absl::StrSplit(absl::GetFlag(FLAGS_roles), ',', absl::SkipEmpty());
  claims.expires = absl::Now() + absl::Hours(absl::GetFlag(FLAGS_ttl_hours));
  std::cout << auth::SignHs256(claims, *secret) << "\n";
  return 0;
}

void AddContactRow(Table& table, const v1::Contact& c) {
  table.AddRow({c.name(), absl::StrCat(c.given_name(), " ", c.family_name()),
                absl::StrJoin(c.emails(), ","), absl::StrJoin(c.phones(), ","), c.owner()});
}

int Contacts(v1::ContactsService::Stub& stub, const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  const bool json = absl::GetFlag(FLAGS_json);
  Table table({"NAME", "PERSON", "EMAILS", "PHONES", "OWNER"});
  if (verb == "create") {
    v1::CreateContactRequest request;
    v1::Contact* c = request.mutable_contact();
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
  } else if (verb == "list") {
    v1::ListContactsRequest request;
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
    return Fail("usage: crmctl contacts create|get|list|delete");
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

}  // namespace
}  // namespace crm::ctl

int main(int argc, char** argv) {
  std::vector<char*> args = crm::config::ParseFlagsWithEnv(argc, argv, crm::ctl::kUsage);
  const std::string command = args.size() > 1 ? args[1] : "";
  if (command == "token") return crm::ctl::Token();
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_contacts_addr),
                                     grpc::InsecureChannelCredentials());
  auto stub = crm::contacts::v1::ContactsService::NewStub(channel);
  if (command == "contacts") return crm::ctl::Contacts(*stub, args);
  if (command == "companies") return crm::ctl::Companies(*stub, args);
  std::cerr << crm::ctl::kUsage << "\n";
  return 2;
}
