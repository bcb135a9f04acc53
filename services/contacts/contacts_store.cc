#include "services/contacts/contacts_store.h"

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sqlstate.h"
#include "common/db/transaction.h"
#include "common/events/record_changes.h"
#include "common/fields/search_words.h"
#include "common/fields/values_json.h"
#include "common/ids/uuid.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/store_support.h"

namespace crm::contacts {
namespace {

using db::Param;
using db::Params;
using db::Result;
using db::Transaction;
using v1::Company;
using v1::Contact;
using v1::TenantSettings;

// Fails with NOT_FOUND unless the company exists (and is not deleted) in the tenant.
absl::Status CheckCompanyExists(Transaction& tx, const std::string& tenant,
                                const std::string& company_name) {
  ASSIGN_OR_RETURN(Result r, tx.Exec("SELECT 1 FROM contacts.companies "
                                     "WHERE tenant_id = $1 AND id = $2 AND delete_time IS NULL",
                                     {tenant, company_name.substr(kCompanyPrefix.size())}));
  if (r.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("contact.company: ", company_name, " does not exist"));
  }
  return absl::OkStatus();
}

// What search matches a contact on, from the statement's $3 (given), $4 (family), $5 (emails),
// $6 (phones) parameters.
// A contact's search text from the statement's parameters: $3 given and $4 family name, $5
// emails, $6 phones, and `words` the words of its custom fields (fields::SearchWords, NULL for
// none).
std::string SearchTextOfParams(int words) {
  return absl::StrCat(
      "concat_ws(' ', $3::text, $4::text, array_to_string($5::text[], ' '), "
      "array_to_string($6::text[], ' '), $",
      words, "::text)");
}

// fields::SearchWords of a contact, NULL when it has none (the search text ends with its phones).
db::Param SearchWordsParam(const Contact& contact) {
  std::string words = fields::SearchWords(contact.custom_fields());
  if (words.empty()) return std::nullopt;
  return words;
}

constexpr char kInsertContactKeys[] =
    "INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
    "SELECT $1, 'email', e, $2::uuid FROM unnest($3::text[]) e "
    "UNION ALL SELECT $1, 'phone', p, $2::uuid FROM unnest($4::text[]) p";

}  // namespace

std::string ListLiveSql(absl::string_view table, absl::string_view columns,
                        absl::string_view filter_where, const Page& page) {
  return absl::StrCat("SELECT ", columns, " FROM ", table,
                      " WHERE tenant_id = $1 AND delete_time IS NULL "
                      "AND ($2::uuid IS NULL OR id > $2::uuid)",
                      filter_where.empty() ? "" : " AND ", filter_where, " ORDER BY ", page.order,
                      " LIMIT $3", page.offset > 0 ? absl::StrCat(" OFFSET ", page.offset) : "");
}

absl::Status ContactsStore::DuplicateContactError(const std::string& tenant, const Contact& contact,
                                                  absl::Time deadline) {
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

absl::Status ContactsStore::DuplicateCompanyError(const std::string& tenant, const Company& company,
                                                  absl::Time deadline) {
  const std::string self_id =
      company.name().empty() ? "" : company.name().substr(kCompanyPrefix.size());
  ASSIGN_OR_RETURN(
      Result r,
      RunOnce(pool_, tenant,
              "SELECT id FROM contacts.companies WHERE tenant_id = $1 "
              "AND domain = $2 AND delete_time IS NULL "
              "AND ($3::uuid IS NULL OR id <> $3::uuid)",
              {tenant, company.domain(), self_id.empty() ? Param() : Param(self_id)}, deadline));
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
                                                     absl::Time deadline, const WriteGuard& guard) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = NowMicros();
  Contact created = contact;
  created.set_name(absl::StrCat(kContactPrefix, id));
  created.set_creator(creator);
  created.set_etag("1");
  SetTime(created.mutable_create_time(), now);
  SetTime(created.mutable_update_time(), now);

  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  if (!contact.company().empty())
    RETURN_IF_ERROR(CheckCompanyExists(tx, tenant, contact.company()));
  // The contact and its unique keys in one statement; a key held by another contact fails the
  // whole statement with a unique violation, so nothing half-written can remain.
  const std::string insert_sql = absl::StrCat(
      "WITH c AS (INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, "
      "emails, phones, company_id, job_title, owner, creator, lifecycle_stage, lead_source, "
      "campaign, tags, attributes, create_request_id, create_time, update_time, search_text, "
      "custom_fields) "
      "VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::uuid, $8, $9, $10, $11, $12, $13, "
      "$14::text[], $15::jsonb, $16, ",
      TimeParam(18), ", ", TimeParam(18), ", ", SearchTextOfParams(20),
      ", $19::jsonb) "
      "ON CONFLICT (tenant_id, creator, create_request_id) WHERE create_request_id IS NOT NULL "
      "DO NOTHING RETURNING *), "
      "k AS (INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
      "SELECT c.tenant_id, 'email', e, c.id FROM c, unnest($17::text[]) e UNION ALL "
      "SELECT c.tenant_id, 'phone', p, c.id FROM c, unnest(c.phones) p) "
      "SELECT count(*) FROM c");
  const Params params = {tenant,
                         id,
                         contact.given_name(),
                         contact.family_name(),
                         db::ToArrayLiteral(ToVector(contact.emails())),
                         db::ToArrayLiteral(ToVector(contact.phones())),
                         OptionalId(contact.company(), kCompanyPrefix),
                         contact.job_title(),
                         contact.owner(),
                         creator,
                         LifecycleStageToText(contact.lifecycle_stage()),
                         LeadSourceToText(contact.lead_source()),
                         contact.campaign(),
                         db::ToArrayLiteral(ToVector(contact.tags())),
                         AttributesJson(contact.attributes()),
                         request_id.empty() ? Param() : Param(request_id),
                         db::ToArrayLiteral(EmailKeys(contact)),
                         absl::StrCat(absl::ToUnixMicros(now)),
                         fields::ValuesToJson(contact.custom_fields()),
                         SearchWordsParam(contact)};
  // The event holds the new contact (no copy of its values); it is what the call returns.
  v1::ContactCreated event;
  *event.mutable_contact() = std::move(created);
  const Contact& written = event.contact();
  bool inserted = true;
  if (request_id.empty()) {
    // The common case costs one round trip: insert, event and commit are sent together.
    tx.Queue(insert_sql, params);
  } else {
    // With a request id the insert may be a retry that changes nothing; no event then.
    absl::StatusOr<Result> rows = tx.Exec(insert_sql, params);
    if (rows.status().code() == absl::StatusCode::kAlreadyExists) {
      tx.Abort();  // one connection at a time: release it before looking up the holder
      return DuplicateContactError(tenant, contact, deadline);
    }
    RETURN_IF_ERROR(rows.status());
    inserted = rows->Int(0, 0) == 1;
  }
  if (inserted) {
    if (guard) guard(tx, written.name(), written.custom_fields());
    outbox_.Append(tx, tenant, Draft<v1::Contact>(written.name(), creator, now, event));
  }
  absl::Status status = tx.Commit();
  if (fields::UniqueValues::IsConflict(status)) return status;  // the guard's caller names it
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateContactError(tenant, contact, deadline);
  }
  RETURN_IF_ERROR(status);
  if (inserted) return std::move(*event.mutable_contact());
  // The request id was used before: answer as the first call did.
  ASSIGN_OR_RETURN(Result first,
                   RunOnce(pool_, tenant,
                           absl::StrCat("SELECT ", kContactColumns,
                                        " FROM contacts.contacts WHERE tenant_id = $1 AND "
                                        "creator = $3 AND create_request_id = $2 AND "
                                        "delete_time IS NULL"),
                           {tenant, request_id, creator}, deadline));
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
                                                  "AND id = $2 AND (delete_time IS NULL OR "
                                                  "merged_into IS NOT NULL)"),
                                     {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("contacts/", id, " not found"));
  return ContactFromRow(r, 0);
}

absl::StatusOr<PageResult<Contact>> ContactsStore::ListContacts(const std::string& tenant,
                                                                const Page& page,
                                                                const api::SqlFilter& filter,
                                                                absl::Time deadline) {
  Params params = {tenant, page.after_id.empty() ? Param() : Param(page.after_id),
                   absl::StrCat(page.size + 1)};
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  ASSIGN_OR_RETURN(
      Result r,
      (filter.where.empty() && page.order == "id" ? RunOnceInIndexOrder : RunOnce)(
          pool_, tenant, ListLiveSql("contacts.contacts", kContactColumns, filter.where, page),
          params, deadline));
  PageResult<Contact> out;
  out.more = r.rows() > page.size;
  for (int i = 0; i < std::min(r.rows(), page.size); ++i) out.items.push_back(ContactFromRow(r, i));
  return out;
}

absl::StatusOr<int64_t> ContactsStore::CountContacts(const std::string& tenant,
                                                     const api::SqlFilter& filter,
                                                     absl::Time deadline) {
  Params params = {tenant};
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  ASSIGN_OR_RETURN(Result r,
                   RunOnce(pool_, tenant,
                           absl::StrCat("SELECT count(*) FROM contacts.contacts WHERE "
                                        "tenant_id = $1 AND delete_time IS NULL",
                                        filter.where.empty() ? "" : " AND ", filter.where),
                           params, deadline));
  return r.Int(0, 0);
}

void ContactsStore::QueueUpdate(Transaction& tx, const std::string& tenant, const Contact& current,
                                Contact& next, const std::vector<std::string>& changed,
                                const std::string& actor) {
  const std::string id = current.name().substr(kContactPrefix.size());
  const absl::Time now = NowMicros();
  next.set_etag(NextEtag(current.etag()));
  SetTime(next.mutable_update_time(), now);
  tx.Queue(
      absl::StrCat("UPDATE contacts.contacts SET given_name = $3, family_name = $4, "
                   "emails = $5::text[], phones = $6::text[], company_id = $7::uuid, "
                   "job_title = $8, owner = $9, lifecycle_stage = $10, lead_source = $11, "
                   "campaign = $12, tags = $13::text[], attributes = $14::jsonb, "
                   "custom_fields = $16::jsonb, version = version + 1, update_time = ",
                   TimeParam(15), ", search_text = ", SearchTextOfParams(17),
                   " WHERE tenant_id = $1 AND id = $2"),
      {tenant, id, next.given_name(), next.family_name(),
       db::ToArrayLiteral(ToVector(next.emails())), db::ToArrayLiteral(ToVector(next.phones())),
       OptionalId(next.company(), kCompanyPrefix), next.job_title(), next.owner(),
       LifecycleStageToText(next.lifecycle_stage()), LeadSourceToText(next.lead_source()),
       next.campaign(), db::ToArrayLiteral(ToVector(next.tags())),
       AttributesJson(next.attributes()), absl::StrCat(absl::ToUnixMicros(now)),
       fields::ValuesToJson(next.custom_fields()), SearchWordsParam(next)});
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
  events::CopyPrevious(current, changed, updated.mutable_previous());
  outbox_.Append(tx, tenant, Draft<v1::Contact>(next.name(), actor, now, updated));
  v1::ContactOwnerChanged owner_changed;
  if (next.owner() != current.owner()) {
    owner_changed.set_name(next.name());
    owner_changed.set_previous_owner(current.owner());
    owner_changed.set_owner(next.owner());
    outbox_.Append(tx, tenant, Draft<v1::Contact>(next.name(), actor, now, owner_changed));
  }
}

void ContactsStore::QueueCreate(Transaction& tx, const std::string& tenant, Contact& contact,
                                const std::string& creator) {
  // The caller may have chosen the id (imports refer to it before writing).
  const std::string id =
      contact.name().empty() ? ids::NewUuidV7() : contact.name().substr(kContactPrefix.size());
  const absl::Time now = NowMicros();
  contact.set_name(absl::StrCat(kContactPrefix, id));
  contact.set_creator(creator);
  contact.set_etag("1");
  SetTime(contact.mutable_create_time(), now);
  SetTime(contact.mutable_update_time(), now);
  tx.Queue(absl::StrCat(
               "WITH c AS (INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, "
               "emails, phones, company_id, job_title, owner, creator, lifecycle_stage, "
               "lead_source, campaign, tags, attributes, create_time, update_time, search_text, "
               "custom_fields) "
               "VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::uuid, $8, $9, $10, $11, $12, "
               "$13, $14::text[], $15::jsonb, ",
               TimeParam(17), ", ", TimeParam(17), ", ", SearchTextOfParams(19),
               ", $18::jsonb) RETURNING id, phones) "
               "INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
               "SELECT $1, 'email', e, c.id FROM c, unnest($16::text[]) e UNION ALL "
               "SELECT $1, 'phone', p, c.id FROM c, unnest(c.phones) p"),
           {tenant, id, contact.given_name(), contact.family_name(),
            db::ToArrayLiteral(ToVector(contact.emails())),
            db::ToArrayLiteral(ToVector(contact.phones())),
            OptionalId(contact.company(), kCompanyPrefix), contact.job_title(), contact.owner(),
            creator, LifecycleStageToText(contact.lifecycle_stage()),
            LeadSourceToText(contact.lead_source()), contact.campaign(),
            db::ToArrayLiteral(ToVector(contact.tags())), AttributesJson(contact.attributes()),
            db::ToArrayLiteral(EmailKeys(contact)), absl::StrCat(absl::ToUnixMicros(now)),
            fields::ValuesToJson(contact.custom_fields()), SearchWordsParam(contact)});
  v1::ContactCreated event;
  *event.mutable_contact() = contact;
  outbox_.Append(tx, tenant, Draft<v1::Contact>(contact.name(), creator, now, event));
}

void ContactsStore::QueueCreateMany(Transaction& tx, const std::string& tenant,
                                    std::vector<Contact>& contacts, const std::string& creator) {
  if (contacts.empty()) return;
  const absl::Time now = NowMicros();
  nlohmann::json rows = nlohmann::json::array();
  for (Contact& contact : contacts) {
    if (contact.name().empty()) contact.set_name(absl::StrCat(kContactPrefix, ids::NewUuidV7()));
    contact.set_creator(creator);
    contact.set_etag("1");
    SetTime(contact.mutable_create_time(), now);
    SetTime(contact.mutable_update_time(), now);
    nlohmann::json row = {
        {"id", contact.name().substr(kContactPrefix.size())},
        {"given_name", contact.given_name()},
        {"family_name", contact.family_name()},
        {"emails", ToVector(contact.emails())},
        {"phones", ToVector(contact.phones())},
        {"email_keys", EmailKeys(contact)},
        {"job_title", contact.job_title()},
        {"owner", contact.owner()},
        {"lifecycle_stage", LifecycleStageToText(contact.lifecycle_stage())},
        {"lead_source", LeadSourceToText(contact.lead_source())},
        {"campaign", contact.campaign()},
        {"tags", ToVector(contact.tags())},
        {"attributes", nlohmann::json::parse(AttributesJson(contact.attributes()))},
        {"custom_fields", nlohmann::json::parse(fields::ValuesToJson(contact.custom_fields()))}};
    row["company_id"] = contact.company().empty()
                            ? nlohmann::json(nullptr)
                            : nlohmann::json(contact.company().substr(kCompanyPrefix.size()));
    const std::string words = fields::SearchWords(contact.custom_fields());
    row["search_words"] = words.empty() ? nlohmann::json(nullptr) : nlohmann::json(words);
    rows.push_back(std::move(row));
  }
  // One document per batch: the rows, then their keys from the same document.
  tx.Queue(absl::StrCat(
               "WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, "
               "given_name text, family_name text, emails text[], phones text[], "
               "email_keys text[], company_id uuid, job_title text, owner text, "
               "lifecycle_stage text, lead_source text, campaign text, tags text[], "
               "attributes jsonb, custom_fields jsonb, search_words text)), "
               "c AS (INSERT INTO contacts.contacts (tenant_id, id, given_name, family_name, "
               "emails, phones, company_id, job_title, owner, creator, lifecycle_stage, "
               "lead_source, campaign, tags, attributes, create_time, update_time, search_text, "
               "custom_fields) "
               "SELECT $1, id, given_name, family_name, emails, phones, company_id, job_title, "
               "owner, $3, lifecycle_stage, lead_source, campaign, tags, attributes, ",
               TimeParam(4), ", ", TimeParam(4),
               ", concat_ws(' ', given_name, family_name, array_to_string(emails, ' '), "
               "array_to_string(phones, ' '), search_words), custom_fields FROM r RETURNING id) "
               "INSERT INTO contacts.contact_keys (tenant_id, kind, value, contact_id) "
               "SELECT $1, 'email', e, r.id FROM r JOIN c ON c.id = r.id, unnest(r.email_keys) e "
               "UNION ALL SELECT $1, 'phone', p, r.id FROM r JOIN c ON c.id = r.id, "
               "unnest(r.phones) p"),
           {tenant, rows.dump(), creator, absl::StrCat(absl::ToUnixMicros(now))});
  std::vector<v1::ContactCreated> payloads(contacts.size());
  std::vector<events::EventDraft> drafts;
  drafts.reserve(contacts.size());
  for (size_t i = 0; i < contacts.size(); ++i) {
    *payloads[i].mutable_contact() = contacts[i];
    drafts.push_back(Draft<v1::Contact>(contacts[i].name(), creator, now, payloads[i]));
  }
  outbox_.AppendMany(tx, tenant, drafts);
}

absl::StatusOr<std::optional<std::string>> ContactsStore::FindImport(const std::string& tenant,
                                                                     const std::string& author,
                                                                     const std::string& import_id,
                                                                     absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     "SELECT encode(report, 'hex') FROM contacts.imports WHERE "
                                     "tenant_id = $1 AND author = $3 AND import_id = $2",
                                     {tenant, import_id, author}, deadline));
  if (r.rows() == 0) return std::nullopt;
  return absl::HexStringToBytes(r.Text(0, 0));
}

absl::Status ContactsStore::SaveImport(const std::string& tenant, const std::string& import_id,
                                       const std::string& author, const std::string& report,
                                       absl::Time deadline) {
  return RunOnce(pool_, tenant,
                 "INSERT INTO contacts.imports (tenant_id, import_id, author, report) VALUES "
                 "($1, $2, $3, decode($4, 'hex')) ON CONFLICT DO NOTHING",
                 {tenant, import_id, author, absl::BytesToHexString(report)}, deadline)
      .status();
}

absl::StatusOr<std::map<std::string, std::string>> ContactsStore::LookupKeys(
    Transaction& tx, const std::string& tenant, const std::vector<std::string>& email_keys,
    const std::vector<std::string>& phones) {
  ASSIGN_OR_RETURN(Result r,
                   tx.Exec("SELECT kind, value, contact_id FROM contacts.contact_keys "
                           "WHERE tenant_id = $1 AND ((kind = 'email' AND value = "
                           "ANY($2::text[])) OR (kind = 'phone' AND value = "
                           "ANY($3::text[])))",
                           {tenant, db::ToArrayLiteral(email_keys), db::ToArrayLiteral(phones)}));
  std::map<std::string, std::string> out;
  for (int i = 0; i < r.rows(); ++i) {
    out[absl::StrCat(r.Text(i, 0), ":", r.Text(i, 1))] = absl::StrCat(kContactPrefix, r.Text(i, 2));
  }
  return out;
}

absl::StatusOr<std::map<std::string, Contact>> ContactsStore::LockContacts(
    Transaction& tx, const std::string& tenant, const std::vector<std::string>& ids) {
  std::map<std::string, Contact> out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(Result r,
                   tx.Exec(absl::StrCat("SELECT ", kContactColumns,
                                        " FROM contacts.contacts WHERE tenant_id = $1 "
                                        "AND id = ANY($2::uuid[]) AND delete_time IS NULL "
                                        "ORDER BY id FOR UPDATE"),
                           {tenant, db::ToArrayLiteral(ids)}));
  for (int i = 0; i < r.rows(); ++i) {
    Contact c = ContactFromRow(r, i);
    out[c.name()] = std::move(c);
  }
  return out;
}

absl::StatusOr<Contact> ContactsStore::UpdateContact(const std::string& tenant,
                                                     const std::string& id,
                                                     const std::string& actor,
                                                     const Mutation<Contact>& mutate,
                                                     absl::Time deadline, const WriteGuard& guard) {
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
  const std::vector<std::string> changed = events::ChangedPaths(current, next);
  if (changed.empty()) return current;  // nothing to write, no event
  if (!next.company().empty() && next.company() != current.company()) {
    RETURN_IF_ERROR(CheckCompanyExists(tx, tenant, next.company()));
  }
  QueueUpdate(tx, tenant, current, next, changed, actor);
  if (guard) guard(tx, next.name(), next.custom_fields());
  absl::Status status = tx.Commit();
  if (fields::UniqueValues::IsConflict(status)) return status;  // the guard's caller names it
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return DuplicateContactError(tenant, next, deadline);
  }
  RETURN_IF_ERROR(status);
  return next;
}

absl::StatusOr<bool> ContactsStore::RecordExists(const std::string& tenant, const std::string& name,
                                                 absl::Time deadline) {
  absl::string_view id = name;
  const char* table = absl::ConsumePrefix(&id, kContactPrefix)   ? "contacts.contacts"
                      : absl::ConsumePrefix(&id, kCompanyPrefix) ? "contacts.companies"
                                                                 : nullptr;
  if (table == nullptr || !ids::IsCanonicalUuid(id)) return false;
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     absl::StrCat("SELECT 1 FROM ", table,
                                                  " WHERE tenant_id = $1 AND id = $2::uuid AND "
                                                  "delete_time IS NULL"),
                                     {tenant, std::string(id)}, deadline));
  return r.rows() > 0;
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
  unique_.QueueRelease(tx, common::v1::OBJECT_TYPE_CONTACT, absl::StrCat(kContactPrefix, id));
  v1::ContactDeleted deleted;
  deleted.set_name(absl::StrCat(kContactPrefix, id));
  outbox_.Append(tx, tenant, Draft<v1::Contact>(deleted.name(), actor, now, deleted));
  return tx.Commit();
}

absl::StatusOr<std::vector<SearchHit>> ContactsStore::SearchContacts(const std::string& tenant,
                                                                     const std::string& query,
                                                                     int offset, int limit,
                                                                     absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // Candidates are the nearest by trigram word distance, read from the GiST index in order
  // (names, emails, phones; and contacts of the nearest companies), so the cost follows the page,
  // not the table. Full-text matches then rank first among them.
  const int search = tx.Queue(
      absl::StrCat(
          "WITH cand AS ("
          "(SELECT id FROM contacts.contacts WHERE tenant_id = $1 AND delete_time IS NULL "
          "ORDER BY lower($2) <<-> lower(search_text) LIMIT $5) UNION "
          "(SELECT c.id FROM (SELECT id FROM contacts.companies WHERE tenant_id = $1 AND "
          "delete_time IS NULL ORDER BY lower($2) <<-> lower(display_name) LIMIT 20) co "
          "JOIN contacts.contacts c ON c.tenant_id = $1 AND c.company_id = co.id "
          "WHERE c.delete_time IS NULL)) "
          "SELECT ",
          kContactColumns,
          ", score FROM (SELECT c.*, greatest("
          "word_similarity(lower($2), lower(c.search_text)), "
          "CASE WHEN to_tsvector('simple', c.search_text) @@ plainto_tsquery('simple', $2) "
          "THEN 1.0 ELSE 0 END, "
          "coalesce((SELECT word_similarity(lower($2), lower(co.display_name)) * 0.8 "
          "FROM contacts.companies co WHERE co.tenant_id = c.tenant_id AND co.id = c.company_id), "
          "0)) AS score FROM contacts.contacts c JOIN cand ON cand.id = c.id "
          "WHERE c.tenant_id = $1) s WHERE score >= 0.45 "
          "ORDER BY score DESC, id LIMIT $3 OFFSET $4"),
      {tenant, query, absl::StrCat(limit), absl::StrCat(offset),
       absl::StrCat(std::max(200, 2 * (offset + limit)))});
  RETURN_IF_ERROR(tx.Commit());
  const Result& r = tx.ResultOf(search);
  const int score_column = r.ColumnIndex("score");
  std::vector<SearchHit> hits;
  for (int i = 0; i < r.rows(); ++i) {
    double score = 0;
    (void)absl::SimpleAtod(r.Text(i, score_column), &score);
    hits.push_back({ContactFromRow(r, i), std::min(score, 1.0)});
  }
  return hits;
}

absl::StatusOr<std::vector<SearchHit>> ContactsStore::SimilarlyNamed(const std::string& tenant,
                                                                     const Contact& contact,
                                                                     int limit,
                                                                     absl::Time deadline) {
  const std::string full_name = absl::StrCat(contact.given_name(), " ", contact.family_name());
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // Nearest names first, straight from the trigram GiST index.
  const int similar = tx.Queue(
      absl::StrCat("SELECT ", kContactColumns,
                   ", similarity(lower($3), lower(concat_ws(' ', "
                   "given_name, family_name))) AS score FROM contacts.contacts WHERE "
                   "tenant_id = $1 AND id <> $2::uuid AND delete_time IS NULL "
                   "ORDER BY lower($3) <<-> lower(search_text) LIMIT $4"),
      {tenant, contact.name().substr(kContactPrefix.size()), full_name, absl::StrCat(limit)});
  RETURN_IF_ERROR(tx.Commit());
  const Result& r = tx.ResultOf(similar);
  const int score_column = r.ColumnIndex("score");
  std::vector<SearchHit> hits;
  for (int i = 0; i < r.rows(); ++i) {
    double score = 0;
    (void)absl::SimpleAtod(r.Text(i, score_column), &score);
    hits.push_back({ContactFromRow(r, i), score});
  }
  return hits;
}

absl::StatusOr<Contact> ContactsStore::MergeContacts(
    const std::string& tenant, const std::string& winner_id, const std::string& loser_id,
    const std::string& actor,
    const std::function<absl::Status(const Contact& winner, const Contact& loser)>& check,
    absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // Both rows locked in id order: two merges of the same pair (either way round) queue up
  // instead of deadlocking or interleaving.
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("SELECT ", kContactColumns,
                           ", delete_time IS NOT NULL AS deleted FROM contacts.contacts "
                           "WHERE tenant_id = $1 AND id IN ($2::uuid, $3::uuid) "
                           "ORDER BY id FOR UPDATE"),
              {tenant, winner_id, loser_id}));
  std::optional<Contact> winner, loser;
  bool loser_deleted = false;
  bool winner_deleted = false;
  for (int i = 0; i < rows.rows(); ++i) {
    Contact c = ContactFromRow(rows, i);
    const bool deleted = rows.Bool(i, rows.ColumnIndex("deleted"));
    if (c.name() == absl::StrCat(kContactPrefix, winner_id)) {
      winner = c;
      winner_deleted = deleted;
    } else {
      loser = c;
      loser_deleted = deleted;
    }
  }
  if (!winner || winner_deleted) {
    return absl::NotFoundError(absl::StrCat("contacts/", winner_id, " not found"));
  }
  if (!loser) return absl::NotFoundError(absl::StrCat("contacts/", loser_id, " not found"));
  if (loser_deleted) {
    // Idempotent: a retry of a merge that already happened answers with the winner.
    if (loser->merged_into() == winner->name()) return *winner;
    return absl::NotFoundError(absl::StrCat("contacts/", loser_id, " not found"));
  }
  RETURN_IF_ERROR(check(*winner, *loser));

  Contact merged = *winner;
  auto add_missing = [](google::protobuf::RepeatedPtrField<std::string>* into,
                        const google::protobuf::RepeatedPtrField<std::string>& from) {
    for (const std::string& value : from) {
      if (std::find(into->begin(), into->end(), value) == into->end()) *into->Add() = value;
    }
  };
  add_missing(merged.mutable_emails(), loser->emails());
  add_missing(merged.mutable_phones(), loser->phones());
  add_missing(merged.mutable_tags(), loser->tags());
  for (const auto& [key, value] : loser->attributes()) {
    merged.mutable_attributes()->insert({key, value});  // the winner's value wins a conflict
  }
  // Custom field values too: the winner's stay, the loser's fill the fields it left empty.
  std::vector<std::string> handed_over;
  for (const auto& [key, value] : loser->custom_fields()) {
    if (merged.mutable_custom_fields()->insert({key, value}).second) handed_over.push_back(key);
  }
  if (merged.emails_size() > kMaxEmails || merged.phones_size() > kMaxPhones ||
      merged.tags_size() > kMaxTags || merged.attributes_size() > kMaxAttributes) {
    return absl::FailedPreconditionError(
        "the merged contact would exceed the limits on emails, phones, tags or attributes; "
        "remove some from either contact first");
  }
  if (merged.given_name().empty()) merged.set_given_name(loser->given_name());
  if (merged.family_name().empty()) merged.set_family_name(loser->family_name());
  if (merged.company().empty()) merged.set_company(loser->company());
  if (merged.job_title().empty()) merged.set_job_title(loser->job_title());
  if (merged.lead_source() == v1::LEAD_SOURCE_UNSPECIFIED) {
    merged.set_lead_source(loser->lead_source());
    merged.set_campaign(loser->campaign());
  }
  const absl::Time now = NowMicros();
  merged.set_etag(NextEtag(winner->etag()));
  SetTime(merged.mutable_update_time(), now);
  // The loser's keys move to the winner; its row becomes a tombstone pointing at the winner.
  tx.Queue(
      "UPDATE contacts.contact_keys SET contact_id = $3::uuid WHERE tenant_id = $1 AND "
      "contact_id = $2::uuid",
      {tenant, loser_id, winner_id});
  tx.Queue(absl::StrCat("UPDATE contacts.contacts SET delete_time = ", TimeParam(4),
                        ", merged_into = $3::uuid, version = version + 1 WHERE tenant_id = $1 "
                        "AND id = $2::uuid"),
           {tenant, loser_id, winner_id, absl::StrCat(absl::ToUnixMicros(now))});
  unique_.QueueHandOver(tx, common::v1::OBJECT_TYPE_CONTACT, loser->name(), merged.name(),
                        handed_over);
  tx.Queue(
      "UPDATE contacts.activities SET contact_id = $3::uuid WHERE tenant_id = $1 AND "
      "contact_id = $2::uuid",
      {tenant, loser_id, winner_id});
  tx.Queue(
      absl::StrCat(
          "UPDATE contacts.contacts SET given_name = $3, family_name = $4, "
          "emails = $5::text[], phones = $6::text[], company_id = $7::uuid, job_title = $8, "
          "lead_source = $9, campaign = $10, tags = $11::text[], attributes = $12::jsonb, "
          "custom_fields = $15::jsonb, version = version + 1, update_time = ",
          TimeParam(13), ", search_text = ", SearchTextOfParams(16),
          ", last_contacted_time = (SELECT max(t) FROM (VALUES "
          "(last_contacted_time), ((SELECT last_contacted_time FROM contacts.contacts l "
          "WHERE l.tenant_id = $1 AND l.id = $14::uuid))) v(t)) "
          "WHERE tenant_id = $1 AND id = $2::uuid"),
      {tenant, winner_id, merged.given_name(), merged.family_name(),
       db::ToArrayLiteral(ToVector(merged.emails())), db::ToArrayLiteral(ToVector(merged.phones())),
       OptionalId(merged.company(), kCompanyPrefix), merged.job_title(),
       LeadSourceToText(merged.lead_source()), merged.campaign(),
       db::ToArrayLiteral(ToVector(merged.tags())), AttributesJson(merged.attributes()),
       absl::StrCat(absl::ToUnixMicros(now)), loser_id,
       fields::ValuesToJson(merged.custom_fields()), SearchWordsParam(merged)});
  v1::ContactsMerged event;
  event.set_winner(merged.name());
  event.set_loser(loser->name());
  *event.mutable_contact() = merged;
  outbox_.Append(tx, tenant, Draft<v1::Contact>(merged.name(), actor, now, event));
  const int reread = tx.Queue(absl::StrCat("SELECT ", kContactColumns,
                                           " FROM contacts.contacts "
                                           "WHERE tenant_id = $1 AND id = $2::uuid"),
                              {tenant, winner_id});
  RETURN_IF_ERROR(tx.Commit());
  return ContactFromRow(tx.ResultOf(reread), 0);
}

absl::StatusOr<Company> ContactsStore::CreateCompany(const std::string& tenant,
                                                     const Company& company,
                                                     const std::string& creator,
                                                     const std::string& request_id,
                                                     absl::Time deadline, const WriteGuard& guard) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = NowMicros();
  Company created = company;
  created.set_name(absl::StrCat(kCompanyPrefix, id));
  created.set_creator(creator);
  created.set_etag("1");
  SetTime(created.mutable_create_time(), now);
  SetTime(created.mutable_update_time(), now);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  absl::StatusOr<Result> inserted = tx.Exec(
      absl::StrCat("INSERT INTO contacts.companies (tenant_id, id, display_name, domain, industry, "
                   "owner, creator, lifecycle_stage, lead_source, campaign, tags, attributes, "
                   "create_request_id, create_time, update_time, custom_fields) VALUES ($1, $2, "
                   "$3, $4, $5, $6, $7, $8, $9, $10, $11::text[], $12::jsonb, $13, ",
                   TimeParam(14), ", ", TimeParam(14),
                   ", $15::jsonb) ON CONFLICT (tenant_id, creator, create_request_id) "
                   "WHERE create_request_id IS NOT NULL DO NOTHING RETURNING id"),
      {tenant, id, company.display_name(),
       company.domain().empty() ? Param() : Param(company.domain()), company.industry(),
       company.owner(), creator, LifecycleStageToText(company.lifecycle_stage()),
       LeadSourceToText(company.lead_source()), company.campaign(),
       db::ToArrayLiteral(ToVector(company.tags())), AttributesJson(company.attributes()),
       request_id.empty() ? Param() : Param(request_id), absl::StrCat(absl::ToUnixMicros(now)),
       fields::ValuesToJson(company.custom_fields())});
  if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
    tx.Abort();  // one connection at a time: release it before looking up the holder
    return DuplicateCompanyError(tenant, company, deadline);
  }
  RETURN_IF_ERROR(inserted.status());
  if (inserted->rows() == 0) {
    // The request id was used before: answer as the first call did.
    ASSIGN_OR_RETURN(Result first,
                     tx.Exec(absl::StrCat("SELECT ", kCompanyColumns,
                                          " FROM contacts.companies WHERE tenant_id = $1 AND "
                                          "creator = $3 AND create_request_id = $2 AND "
                                          "delete_time IS NULL"),
                             {tenant, request_id, creator}));
    RETURN_IF_ERROR(tx.Commit());
    if (first.rows() == 0) {
      return absl::NotFoundError("the company created with this request_id was deleted since");
    }
    return CompanyFromRow(first, 0);
  }
  if (guard) guard(tx, created.name(), created.custom_fields());
  v1::CompanyCreated event;
  *event.mutable_company() = created;
  outbox_.Append(tx, tenant, Draft<v1::Company>(created.name(), creator, now, event));
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
                                                                 const api::SqlFilter& filter,
                                                                 absl::Time deadline) {
  Params params = {tenant, page.after_id.empty() ? Param() : Param(page.after_id),
                   absl::StrCat(page.size + 1)};
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  ASSIGN_OR_RETURN(
      Result r,
      (filter.where.empty() && page.order == "id" ? RunOnceInIndexOrder : RunOnce)(
          pool_, tenant, ListLiveSql("contacts.companies", kCompanyColumns, filter.where, page),
          params, deadline));
  PageResult<Company> out;
  out.more = r.rows() > page.size;
  for (int i = 0; i < std::min(r.rows(), page.size); ++i) out.items.push_back(CompanyFromRow(r, i));
  return out;
}

absl::StatusOr<Company> ContactsStore::UpdateCompany(const std::string& tenant,
                                                     const std::string& id,
                                                     const std::string& actor,
                                                     const Mutation<Company>& mutate,
                                                     absl::Time deadline, const WriteGuard& guard) {
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
  const std::vector<std::string> changed = events::ChangedPaths(current, next);
  if (changed.empty()) return current;
  const absl::Time now = NowMicros();
  next.set_etag(NextEtag(current.etag()));
  SetTime(next.mutable_update_time(), now);
  tx.Queue(
      absl::StrCat("UPDATE contacts.companies SET display_name = $3, domain = $4, industry = $5, "
                   "owner = $6, lifecycle_stage = $7, lead_source = $8, campaign = $9, "
                   "tags = $10::text[], attributes = $11::jsonb, custom_fields = $13::jsonb, "
                   "version = version + 1, update_time = ",
                   TimeParam(12), " WHERE tenant_id = $1 AND id = $2"),
      {tenant, id, next.display_name(), next.domain().empty() ? Param() : Param(next.domain()),
       next.industry(), next.owner(), LifecycleStageToText(next.lifecycle_stage()),
       LeadSourceToText(next.lead_source()), next.campaign(),
       db::ToArrayLiteral(ToVector(next.tags())), AttributesJson(next.attributes()),
       absl::StrCat(absl::ToUnixMicros(now)), fields::ValuesToJson(next.custom_fields())});
  v1::CompanyUpdated updated;
  *updated.mutable_company() = next;
  for (const std::string& field : changed) updated.add_changed_fields(field);
  events::CopyPrevious(current, changed, updated.mutable_previous());
  outbox_.Append(tx, tenant, Draft<v1::Company>(next.name(), actor, now, updated));
  v1::CompanyOwnerChanged owner_changed;
  if (next.owner() != current.owner()) {
    owner_changed.set_name(next.name());
    owner_changed.set_previous_owner(current.owner());
    owner_changed.set_owner(next.owner());
    outbox_.Append(tx, tenant, Draft<v1::Company>(next.name(), actor, now, owner_changed));
  }
  if (guard) guard(tx, next.name(), next.custom_fields());
  absl::Status status = tx.Commit();
  if (fields::UniqueValues::IsConflict(status)) return status;  // the guard's caller names it
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
  unique_.QueueRelease(tx, common::v1::OBJECT_TYPE_COMPANY, absl::StrCat(kCompanyPrefix, id));
  v1::CompanyDeleted deleted;
  deleted.set_name(absl::StrCat(kCompanyPrefix, id));
  outbox_.Append(tx, tenant, Draft<v1::Company>(deleted.name(), actor, now, deleted));
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

absl::StatusOr<TenantSettings> ContactsStore::UpsertTenantSettings(const std::string& tenant,
                                                                   const std::string& actor,
                                                                   const TenantSettings& s,
                                                                   const std::string& expected_etag,
                                                                   absl::Time deadline) {
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
  for (const std::string& field : events::ChangedPaths(TenantSettings(), stored)) {
    changed.add_changed_fields(field);
  }
  outbox_.Append(tx, tenant,
                 Draft<v1::TenantSettings>("tenantSettings", actor, NowMicros(), changed));
  RETURN_IF_ERROR(tx.Commit());
  return stored;
}

}  // namespace crm::contacts
