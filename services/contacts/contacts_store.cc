#include "services/contacts/contacts_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sqlstate.h"
#include "common/db/transaction.h"
#include "common/ids/uuid.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/contacts/contact_rules.h"

namespace crm::contacts {
namespace {

using db::Param;
using db::Params;
using db::Result;
using db::Transaction;
using v1::Company;
using v1::Contact;
using v1::TenantSettings;

constexpr char kContactColumns[] =
    "id, given_name, family_name, emails, phones, company_id, job_title, owner, creator, "
    "lifecycle_stage, lead_source, campaign, tags, attributes, version, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint";

constexpr char kCompanyColumns[] =
    "id, display_name, domain, industry, owner, creator, lifecycle_stage, lead_source, campaign, "
    "tags, attributes, version, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint";

constexpr char kSettingsColumns[] =
    "display_name, default_phone_region, time_zone, default_currency, fiscal_year_start_month, "
    "renewal_lead_days, version, (extract(epoch FROM update_time) * 1000000)::bigint";

void SetTimestamp(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

void ReadAttributes(absl::string_view json,
                    google::protobuf::Map<std::string, std::string>* attributes) {
  auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) {
    if (it.value().is_string()) (*attributes)[it.key()] = it.value().get<std::string>();
  }
}

std::string AttributesJson(const google::protobuf::Map<std::string, std::string>& attributes) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : attributes) object[key] = value;
  return object.dump();
}

std::vector<std::string> ToVector(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return {values.begin(), values.end()};
}

Param OptionalId(const std::string& name, absl::string_view prefix) {
  if (name.empty()) return std::nullopt;
  return name.substr(prefix.size());
}

Contact ContactFromRow(const Result& r, int row) {
  Contact c;
  c.set_name(absl::StrCat(kContactPrefix, r.Text(row, 0)));
  c.set_given_name(r.String(row, 1));
  c.set_family_name(r.String(row, 2));
  for (auto& e : r.TextArray(row, 3)) c.add_emails(std::move(e));
  for (auto& p : r.TextArray(row, 4)) c.add_phones(std::move(p));
  if (!r.IsNull(row, 5)) c.set_company(absl::StrCat(kCompanyPrefix, r.Text(row, 5)));
  c.set_job_title(r.String(row, 6));
  c.set_owner(r.String(row, 7));
  c.set_creator(r.String(row, 8));
  c.set_lifecycle_stage(LifecycleStageFromText(r.Text(row, 9)));
  c.set_lead_source(LeadSourceFromText(r.Text(row, 10)));
  c.set_campaign(r.String(row, 11));
  for (auto& t : r.TextArray(row, 12)) c.add_tags(std::move(t));
  ReadAttributes(r.Text(row, 13), c.mutable_attributes());
  c.set_etag(r.String(row, 14));
  SetTimestamp(c.mutable_create_time(), r.Int(row, 15));
  SetTimestamp(c.mutable_update_time(), r.Int(row, 16));
  return c;
}

Company CompanyFromRow(const Result& r, int row) {
  Company c;
  c.set_name(absl::StrCat(kCompanyPrefix, r.Text(row, 0)));
  c.set_display_name(r.String(row, 1));
  c.set_domain(r.String(row, 2));
  c.set_industry(r.String(row, 3));
  c.set_owner(r.String(row, 4));
  c.set_creator(r.String(row, 5));
  c.set_lifecycle_stage(LifecycleStageFromText(r.Text(row, 6)));
  c.set_lead_source(LeadSourceFromText(r.Text(row, 7)));
  c.set_campaign(r.String(row, 8));
  for (auto& t : r.TextArray(row, 9)) c.add_tags(std::move(t));
  ReadAttributes(r.Text(row, 10), c.mutable_attributes());
  c.set_etag(r.String(row, 11));
  SetTimestamp(c.mutable_create_time(), r.Int(row, 12));
  SetTimestamp(c.mutable_update_time(), r.Int(row, 13));
  return c;
}

TenantSettings SettingsFromRow(const Result& r) {
  TenantSettings s;
  s.set_name("tenantSettings");
  s.set_display_name(r.String(0, 0));
  s.set_default_phone_region(r.String(0, 1));
  s.set_time_zone(r.String(0, 2));
  s.set_default_currency(r.String(0, 3));
  s.set_fiscal_year_start_month(static_cast<int32_t>(r.Int(0, 4)));
  s.set_renewal_lead_days(static_cast<int32_t>(r.Int(0, 5)));
  s.set_etag(r.String(0, 6));
  SetTimestamp(s.mutable_update_time(), r.Int(0, 7));
  return s;
}

// One statement in its own transaction, in a single round trip (BEGIN, tenant, query, COMMIT).
absl::StatusOr<Result> RunOnce(db::Pool& pool, const std::string& tenant, absl::string_view sql,
                               const Params& params, absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool, tenant, deadline));
  const int index = tx.Queue(sql, params);
  RETURN_IF_ERROR(tx.Commit());
  return tx.ResultOf(index);
}

// Fails with FAILED_PRECONDITION unless the company exists (and is not deleted) in the tenant.
absl::Status CheckCompanyExists(Transaction& tx, const std::string& tenant,
                                const std::string& company_name) {
  ASSIGN_OR_RETURN(Result r, tx.Exec("SELECT 1 FROM contacts.companies "
                                     "WHERE tenant_id = $1 AND id = $2 AND delete_time IS NULL",
                                     {tenant, company_name.substr(kCompanyPrefix.size())}));
  if (r.rows() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("contact.company: ", company_name, " does not exist"));
  }
  return absl::OkStatus();
}

// A timestamp chosen by the service, bound as epoch microseconds (exact, unlike float seconds).
std::string TimeParam(int n) {
  return absl::StrCat("('epoch'::timestamptz + $", n, "::bigint * interval '1 microsecond')");
}

absl::Time NowMicros() { return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now())); }

void SetTime(google::protobuf::Timestamp* ts, absl::Time t) {
  SetTimestamp(ts, absl::ToUnixMicros(t));
}

std::string NextEtag(const std::string& etag) {
  int64_t version = 0;
  (void)absl::SimpleAtoi(etag, &version);
  return absl::StrCat(version + 1);
}

events::EventDraft Draft(absl::string_view type, const std::string& name, const std::string& actor,
                         absl::Time when, const google::protobuf::Message& payload) {
  events::EventDraft draft;
  draft.aggregate_type = std::string(type);
  draft.aggregate_id = name;
  draft.actor = actor;
  draft.occurred = when;
  draft.payload = &payload;
  return draft;
}

constexpr char kInsertContactKeys[] =
    "INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
    "SELECT $1, 'email', e, $2::uuid FROM unnest($3::text[]) e "
    "UNION ALL SELECT $1, 'phone', p, $2::uuid FROM unnest($4::text[]) p";

}  // namespace

absl::Status ContactsStore::DuplicateContactError(const std::string& tenant,
                                                  const Contact& contact, absl::Time deadline) {
  const std::string self_id =
      contact.name().empty() ? "" : contact.name().substr(kContactPrefix.size());
  ASSIGN_OR_RETURN(
      Result r,
      RunOnce(pool_, tenant,
              "SELECT contact_id, kind, value FROM contacts.contact_keys WHERE tenant_id = $1 "
              "AND ((kind = 'email' AND value = ANY($2::text[])) OR "
              "(kind = 'phone' AND value = ANY($3::text[]))) "
              "AND ($4::uuid IS NULL OR contact_id <> $4::uuid) ORDER BY kind, value LIMIT 1",
              {tenant, db::ToArrayLiteral(EmailKeys(contact)),
               db::ToArrayLiteral(ToVector(contact.phones())),
               self_id.empty() ? Param() : Param(self_id)},
              deadline));
  if (r.rows() == 0) {
    // The holder went away between our failed insert and this look-up: a retry will succeed.
    return absl::AbortedError("a concurrent change freed the duplicate email or phone; retry");
  }
  return api::AlreadyExistsResource(
      kContactType, absl::StrCat(kContactPrefix, r.Text(0, 0)),
      absl::StrCat(r.Text(0, 1), " ", r.Text(0, 2), " already belongs to another contact"));
}

absl::Status ContactsStore::DuplicateCompanyError(const std::string& tenant,
                                                  const Company& company, absl::Time deadline) {
  const std::string self_id =
      company.name().empty() ? "" : company.name().substr(kCompanyPrefix.size());
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     "SELECT id FROM contacts.companies WHERE tenant_id = $1 "
                                     "AND domain = $2 AND delete_time IS NULL "
                                     "AND ($3::uuid IS NULL OR id <> $3::uuid)",
                                     {tenant, company.domain(),
                                      self_id.empty() ? Param() : Param(self_id)},
                                     deadline));
  if (r.rows() == 0) {
    return absl::AbortedError("a concurrent change freed the duplicate domain; retry");
  }
  return api::AlreadyExistsResource(
      kCompanyType, absl::StrCat(kCompanyPrefix, r.Text(0, 0)),
      absl::StrCat("domain ", company.domain(), " already belongs to another company"));
}

absl::StatusOr<Contact> ContactsStore::CreateContact(const std::string& tenant,
                                                     const Contact& contact,
                                                     const std::string& creator,
                                                     const std::string& request_id,
                                                     absl::Time deadline) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = NowMicros();
  Contact created = contact;
  created.set_name(absl::StrCat(kContactPrefix, id));
  created.set_creator(creator);
  created.set_etag("1");
  SetTime(created.mutable_create_time(), now);
  SetTime(created.mutable_update_time(), now);

  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  if (!contact.company().empty()) RETURN_IF_ERROR(CheckCompanyExists(tx, tenant, contact.company()));
  // The contact and its unique keys in one statement; a key held by another contact fails the
  // whole statement with a unique violation, so nothing half-written can remain.
  const std::string insert_sql = absl::StrCat(
      "WITH c AS (INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, "
      "emails, phones, company_id, job_title, owner, creator, lifecycle_stage, lead_source, "
      "campaign, tags, attributes, create_request_id, create_time, update_time) VALUES ($1, $2, "
      "$3, $4, $5::text[], $6::text[], $7::uuid, $8, $9, $10, $11, $12, $13, $14::text[], "
      "$15::jsonb, $16, ", TimeParam(18), ", ", TimeParam(18), ") "
      "ON CONFLICT (tenant_id, create_request_id) WHERE create_request_id IS NOT NULL "
      "DO NOTHING RETURNING *), "
      "k AS (INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
      "SELECT c.tenant_id, 'email', e, c.id FROM c, unnest($17::text[]) e UNION ALL "
      "SELECT c.tenant_id, 'phone', p, c.id FROM c, unnest(c.phones) p) "
      "SELECT count(*) FROM c");
  const Params params = {
      tenant, id, contact.given_name(), contact.family_name(),
      db::ToArrayLiteral(ToVector(contact.emails())),
      db::ToArrayLiteral(ToVector(contact.phones())), OptionalId(contact.company(), kCompanyPrefix),
      contact.job_title(), contact.owner(), creator, LifecycleStageToText(contact.lifecycle_stage()),
      LeadSourceToText(contact.lead_source()), contact.campaign(),
      db::ToArrayLiteral(ToVector(contact.tags())), AttributesJson(contact.attributes()),
      request_id.empty() ? Param() : Param(request_id), db::ToArrayLiteral(EmailKeys(contact)),
      absl::StrCat(absl::ToUnixMicros(now))};
  v1::ContactCreated event;
  *event.mutable_contact() = created;
  bool inserted = true;
  if (request_id.empty()) {
    // The common case costs one round trip: insert, event and commit are sent together.
    tx.Queue(insert_sql, params);
  } else {
    // With a request id the insert may be a retry that changes nothing; no event then.
    absl::StatusOr<Result> rows = tx.Exec(insert_sql, params);
    if (rows.status().code() == absl::StatusCode::kAlreadyExists) {
      return DuplicateContactError(tenant, contact, deadline);
    }
    RETURN_IF_ERROR(rows.status());
    inserted = rows->Int(0, 0) == 1;
  }
  if (inserted) outbox_.Append(tx, tenant, Draft(kContactType, created.name(), creator, now, event));
  absl::Status status = tx.Commit();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateContactError(tenant, contact, deadline);
  }
  RETURN_IF_ERROR(status);
  if (inserted) return created;
  // The request id was used before: answer as the first call did.
  ASSIGN_OR_RETURN(Result first,
                   RunOnce(pool_, tenant,
                           absl::StrCat("SELECT ", kContactColumns,
                                        " FROM contacts.contacts WHERE tenant_id = $1 AND "
                                        "create_request_id = $2 AND delete_time IS NULL"),
                           {tenant, request_id}, deadline));
  if (first.rows() == 0) {
    return absl::NotFoundError("the contact created with this request_id was deleted since");
  }
  return ContactFromRow(first, 0);
}

absl::StatusOr<Contact> ContactsStore::GetContact(const std::string& tenant, const std::string& id,
                                                  absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     absl::StrCat("SELECT ", kContactColumns,
                                                  " FROM contacts.contacts WHERE tenant_id = $1 "
                                                  "AND id = $2 AND delete_time IS NULL"),
                                     {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("contacts/", id, " not found"));
  return ContactFromRow(r, 0);
}

absl::StatusOr<PageResult<Contact>> ContactsStore::ListContacts(const std::string& tenant,
                                                                const Page& page,
                                                                absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      RunOnce(pool_, tenant,
              absl::StrCat("SELECT ", kContactColumns,
                           " FROM contacts.contacts WHERE tenant_id = $1 AND delete_time IS NULL "
                           "AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3"),
              {tenant, page.after_id.empty() ? Param() : Param(page.after_id),
               absl::StrCat(page.size + 1)},
              deadline));
  PageResult<Contact> out;
  out.more = r.rows() > page.size;
  for (int i = 0; i < std::min(r.rows(), page.size); ++i) out.items.push_back(ContactFromRow(r, i));
  return out;
}

absl::StatusOr<Contact> ContactsStore::UpdateContact(const std::string& tenant,
                                                     const std::string& id,
                                                     const std::string& actor,
                                                     const Mutation<Contact>& mutate,
                                                     absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current_rows,
                   tx.Exec(absl::StrCat("SELECT ", kContactColumns,
                                        " FROM contacts.contacts WHERE tenant_id = $1 AND id = $2 "
                                        "AND delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current_rows.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("contacts/", id, " not found"));
  }
  const Contact current = ContactFromRow(current_rows, 0);
  ASSIGN_OR_RETURN(Contact next, mutate(current));
  const std::vector<std::string> changed = ChangedFields(current, next);
  if (changed.empty()) return current;  // nothing to write, no event
  if (!next.company().empty() && next.company() != current.company()) {
    RETURN_IF_ERROR(CheckCompanyExists(tx, tenant, next.company()));
  }
  const absl::Time now = NowMicros();
  next.set_etag(NextEtag(current.etag()));
  SetTime(next.mutable_update_time(), now);
  tx.Queue(
      absl::StrCat("UPDATE contacts.contacts SET given_name = $3, family_name = $4, "
                   "emails = $5::text[], phones = $6::text[], company_id = $7::uuid, "
                   "job_title = $8, owner = $9, lifecycle_stage = $10, lead_source = $11, "
                   "campaign = $12, tags = $13::text[], attributes = $14::jsonb, "
                   "version = version + 1, update_time = ", TimeParam(15),
                   " WHERE tenant_id = $1 AND id = $2"),
      {tenant, id, next.given_name(), next.family_name(),
       db::ToArrayLiteral(ToVector(next.emails())), db::ToArrayLiteral(ToVector(next.phones())),
       OptionalId(next.company(), kCompanyPrefix), next.job_title(), next.owner(),
       LifecycleStageToText(next.lifecycle_stage()), LeadSourceToText(next.lead_source()),
       next.campaign(), db::ToArrayLiteral(ToVector(next.tags())),
       AttributesJson(next.attributes()), absl::StrCat(absl::ToUnixMicros(now))});
  if (EmailKeys(next) != EmailKeys(current) ||
      ToVector(next.phones()) != ToVector(current.phones())) {
    tx.Queue("DELETE FROM contacts.contact_keys WHERE tenant_id = $1 AND contact_id = $2",
             {tenant, id});
    tx.Queue(kInsertContactKeys, {tenant, id, db::ToArrayLiteral(EmailKeys(next)),
                                  db::ToArrayLiteral(ToVector(next.phones()))});
  }
  v1::ContactUpdated updated;
  *updated.mutable_contact() = next;
  for (const std::string& field : changed) updated.add_changed_fields(field);
  outbox_.Append(tx, tenant, Draft(kContactType, next.name(), actor, now, updated));
  v1::ContactOwnerChanged owner_changed;
  if (next.owner() != current.owner()) {
    owner_changed.set_name(next.name());
    owner_changed.set_previous_owner(current.owner());
    owner_changed.set_owner(next.owner());
    outbox_.Append(tx, tenant, Draft(kContactType, next.name(), actor, now, owner_changed));
  }
  absl::Status status = tx.Commit();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateContactError(tenant, next, deadline);
  }
  RETURN_IF_ERROR(status);
  return next;
}

absl::Status ContactsStore::DeleteContact(const std::string& tenant, const std::string& id,
                                          const std::string& actor,
                                          const std::function<absl::Status(const Contact&)>& check,
                                          absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("SELECT ", kContactColumns,
                                        " FROM contacts.contacts WHERE tenant_id = $1 AND id = $2 "
                                        "AND delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current.rows() == 0) return absl::NotFoundError(absl::StrCat("contacts/", id, " not found"));
  RETURN_IF_ERROR(check(ContactFromRow(current, 0)));
  const absl::Time now = NowMicros();
  tx.Queue(absl::StrCat("UPDATE contacts.contacts SET delete_time = ", TimeParam(3),
                        ", version = version + 1 WHERE tenant_id = $1 AND id = $2"),
           {tenant, id, absl::StrCat(absl::ToUnixMicros(now))});
  tx.Queue("DELETE FROM contacts.contact_keys WHERE tenant_id = $1 AND contact_id = $2",
           {tenant, id});
  v1::ContactDeleted deleted;
  deleted.set_name(absl::StrCat(kContactPrefix, id));
  outbox_.Append(tx, tenant, Draft(kContactType, deleted.name(), actor, now, deleted));
  return tx.Commit();
}

absl::StatusOr<Company> ContactsStore::CreateCompany(const std::string& tenant,
                                                     const Company& company,
                                                     const std::string& creator,
                                                     const std::string& request_id,
                                                     absl::Time deadline) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = NowMicros();
  Company created = company;
  created.set_name(absl::StrCat(kCompanyPrefix, id));
  created.set_creator(creator);
  created.set_etag("1");
  SetTime(created.mutable_create_time(), now);
  SetTime(created.mutable_update_time(), now);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  absl::StatusOr<Result> inserted =
      tx.Exec(absl::StrCat(
                  "INSERT INTO contacts.companies (tenant_id, id, display_name, domain, industry, "
                  "owner, creator, lifecycle_stage, lead_source, campaign, tags, attributes, "
                  "create_request_id, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, "
                  "$7, $8, $9, $10, $11::text[], $12::jsonb, $13, ", TimeParam(14), ", ",
                  TimeParam(14), ") ON CONFLICT (tenant_id, create_request_id) "
                  "WHERE create_request_id IS NOT NULL DO NOTHING RETURNING id"),
              {tenant, id, company.display_name(),
               company.domain().empty() ? Param() : Param(company.domain()), company.industry(),
               company.owner(), creator, LifecycleStageToText(company.lifecycle_stage()),
               LeadSourceToText(company.lead_source()), company.campaign(),
               db::ToArrayLiteral(ToVector(company.tags())), AttributesJson(company.attributes()),
               request_id.empty() ? Param() : Param(request_id),
               absl::StrCat(absl::ToUnixMicros(now))});
  if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateCompanyError(tenant, company, deadline);
  }
  RETURN_IF_ERROR(inserted.status());
  if (inserted->rows() == 0) {
    // The request id was used before: answer as the first call did.
    ASSIGN_OR_RETURN(Result first,
                     tx.Exec(absl::StrCat("SELECT ", kCompanyColumns,
                                          " FROM contacts.companies WHERE tenant_id = $1 AND "
                                          "create_request_id = $2 AND delete_time IS NULL"),
                             {tenant, request_id}));
    RETURN_IF_ERROR(tx.Commit());
    if (first.rows() == 0) {
      return absl::NotFoundError("the company created with this request_id was deleted since");
    }
    return CompanyFromRow(first, 0);
  }
  v1::CompanyCreated event;
  *event.mutable_company() = created;
  outbox_.Append(tx, tenant, Draft(kCompanyType, created.name(), creator, now, event));
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<Company> ContactsStore::GetCompany(const std::string& tenant, const std::string& id,
                                                  absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     absl::StrCat("SELECT ", kCompanyColumns,
                                                  " FROM contacts.companies WHERE tenant_id = $1 "
                                                  "AND id = $2 AND delete_time IS NULL"),
                                     {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("companies/", id, " not found"));
  return CompanyFromRow(r, 0);
}

absl::StatusOr<PageResult<Company>> ContactsStore::ListCompanies(const std::string& tenant,
                                                                 const Page& page,
                                                                 absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      RunOnce(pool_, tenant,
              absl::StrCat("SELECT ", kCompanyColumns,
                           " FROM contacts.companies WHERE tenant_id = $1 AND delete_time IS NULL "
                           "AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3"),
              {tenant, page.after_id.empty() ? Param() : Param(page.after_id),
               absl::StrCat(page.size + 1)},
              deadline));
  PageResult<Company> out;
  out.more = r.rows() > page.size;
  for (int i = 0; i < std::min(r.rows(), page.size); ++i) out.items.push_back(CompanyFromRow(r, i));
  return out;
}

absl::StatusOr<Company> ContactsStore::UpdateCompany(const std::string& tenant,
                                                     const std::string& id,
                                                     const std::string& actor,
                                                     const Mutation<Company>& mutate,
                                                     absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current_rows,
                   tx.Exec(absl::StrCat("SELECT ", kCompanyColumns,
                                        " FROM contacts.companies WHERE tenant_id = $1 AND id = $2 "
                                        "AND delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current_rows.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("companies/", id, " not found"));
  }
  const Company current = CompanyFromRow(current_rows, 0);
  ASSIGN_OR_RETURN(Company next, mutate(current));
  const std::vector<std::string> changed = ChangedFields(current, next);
  if (changed.empty()) return current;
  const absl::Time now = NowMicros();
  next.set_etag(NextEtag(current.etag()));
  SetTime(next.mutable_update_time(), now);
  tx.Queue(
      absl::StrCat("UPDATE contacts.companies SET display_name = $3, domain = $4, industry = $5, "
                   "owner = $6, lifecycle_stage = $7, lead_source = $8, campaign = $9, "
                   "tags = $10::text[], attributes = $11::jsonb, version = version + 1, "
                   "update_time = ", TimeParam(12), " WHERE tenant_id = $1 AND id = $2"),
      {tenant, id, next.display_name(), next.domain().empty() ? Param() : Param(next.domain()),
       next.industry(), next.owner(), LifecycleStageToText(next.lifecycle_stage()),
       LeadSourceToText(next.lead_source()), next.campaign(),
       db::ToArrayLiteral(ToVector(next.tags())), AttributesJson(next.attributes()),
       absl::StrCat(absl::ToUnixMicros(now))});
  v1::CompanyUpdated updated;
  *updated.mutable_company() = next;
  for (const std::string& field : changed) updated.add_changed_fields(field);
  outbox_.Append(tx, tenant, Draft(kCompanyType, next.name(), actor, now, updated));
  v1::CompanyOwnerChanged owner_changed;
  if (next.owner() != current.owner()) {
    owner_changed.set_name(next.name());
    owner_changed.set_previous_owner(current.owner());
    owner_changed.set_owner(next.owner());
    outbox_.Append(tx, tenant, Draft(kCompanyType, next.name(), actor, now, owner_changed));
  }
  absl::Status status = tx.Commit();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateCompanyError(tenant, next, deadline);
  }
  RETURN_IF_ERROR(status);
  return next;
}

absl::Status ContactsStore::DeleteCompany(const std::string& tenant, const std::string& id,
                                          const std::string& actor,
                                          const std::function<absl::Status(const Company&)>& check,
                                          absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("SELECT ", kCompanyColumns,
                                        " FROM contacts.companies WHERE tenant_id = $1 AND id = $2 "
                                        "AND delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current.rows() == 0) return absl::NotFoundError(absl::StrCat("companies/", id, " not found"));
  RETURN_IF_ERROR(check(CompanyFromRow(current, 0)));
  const absl::Time now = NowMicros();
  tx.Queue(absl::StrCat("UPDATE contacts.companies SET delete_time = ", TimeParam(3),
                        ", version = version + 1 WHERE tenant_id = $1 AND id = $2"),
           {tenant, id, absl::StrCat(absl::ToUnixMicros(now))});
  v1::CompanyDeleted deleted;
  deleted.set_name(absl::StrCat(kCompanyPrefix, id));
  outbox_.Append(tx, tenant, Draft(kCompanyType, deleted.name(), actor, now, deleted));
  return tx.Commit();
}

absl::StatusOr<std::optional<TenantSettings>> ContactsStore::GetTenantSettings(
    const std::string& tenant, absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     absl::StrCat("SELECT ", kSettingsColumns,
                                                  " FROM contacts.tenant_settings "
                                                  "WHERE tenant_id = $1"),
                                     {tenant}, deadline));
  if (r.rows() == 0) return std::nullopt;
  return SettingsFromRow(r);
}

absl::StatusOr<TenantSettings> ContactsStore::UpsertTenantSettings(
    const std::string& tenant, const std::string& actor, const TenantSettings& s,
    const std::string& expected_etag, absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(
      Result r,
      tx.Exec(absl::StrCat(
                  "INSERT INTO contacts.tenant_settings AS t (tenant_id, display_name, "
                  "default_phone_region, time_zone, default_currency, fiscal_year_start_month, "
                  "renewal_lead_days) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                  "ON CONFLICT (tenant_id) DO UPDATE SET display_name = EXCLUDED.display_name, "
                  "default_phone_region = EXCLUDED.default_phone_region, "
                  "time_zone = EXCLUDED.time_zone, default_currency = EXCLUDED.default_currency, "
                  "fiscal_year_start_month = EXCLUDED.fiscal_year_start_month, "
                  "renewal_lead_days = EXCLUDED.renewal_lead_days, version = t.version + 1, "
                  "update_time = now() WHERE $8 = '' OR t.version::text = $8 RETURNING ",
                  kSettingsColumns),
              {tenant, s.display_name(), s.default_phone_region(), s.time_zone(),
               s.default_currency(), absl::StrCat(s.fiscal_year_start_month()),
               absl::StrCat(s.renewal_lead_days()), expected_etag}));
  if (r.rows() == 0) return CheckEtag(expected_etag, "stale");
  const TenantSettings stored = SettingsFromRow(r);
  v1::TenantSettingsChanged changed;
  *changed.mutable_settings() = stored;
  for (const std::string& field : ChangedFields(TenantSettings(), stored)) {
    changed.add_changed_fields(field);
  }
  outbox_.Append(tx, tenant,
                 Draft("crm.contacts.v1.TenantSettings", "tenantSettings", actor, NowMicros(),
                       changed));
  RETURN_IF_ERROR(tx.Commit());
  return stored;
}

}  // namespace crm::contacts
