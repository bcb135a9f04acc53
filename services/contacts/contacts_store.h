// All SQL of the contacts service. Every statement is schema-qualified, carries the tenant filter
// and runs in a tenant-scoped transaction (row-level security is the second wall).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/api/filter.h"
#include "common/db/pool.h"
#include "common/events/outbox.h"
#include "common/fields/unique_values.h"
#include "common/fields/write_guard.h"
#include "crm/contacts/v1/company.pb.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/contacts/v1/tenant_settings.pb.h"

namespace crm::contacts {

struct Page {
  int size = 50;
  std::string after_id;  // keyset cursor: rows with a greater id; "" for the first page
  // Trusted ORDER BY SQL ending in id; other orders than "id" page by offset.
  std::string order = "id";
  int64_t offset = 0;
};

struct SearchHit {
  v1::Contact contact;
  double score = 0;
};

template <typename T>
struct PageResult {
  std::vector<T> items;
  bool more = false;  // another page follows
};

// The page statement of ListContacts and ListCompanies: live rows of `table` in the tenant ($1)
// after the keyset cursor ($2, NULL for the first page) in id order, $3 rows, matching
// `filter_where` (placeholders from $4). Unfiltered, it runs with RunOnceInIndexOrder, so its plan
// reads the primary key in order and stops after the page whatever the statistics say.
std::string ListLiveSql(absl::string_view table, absl::string_view columns,
                        absl::string_view filter_where, const Page& page);

// Given the current record, returns the record to write, or an error (etag, permissions, ...)
// that abandons the change. Runs while the row is locked, so the decision cannot go stale.
template <typename T>
using Mutation = std::function<absl::StatusOr<T>(const T& current)>;
// Queued into a record write once the record is: the custom field version check and the claims of
// unique values, given the record's name and its values as written.
using WriteGuard =
    std::function<void(db::Transaction&, const std::string& record, const fields::Values& values)>;

// Every write also appends its domain event (crm.contacts.v1.*Created/Updated/Deleted/
// OwnerChanged) to the outbox in the same transaction.
class ContactsStore final {
 public:
  // Deletes and merges free the records' unique custom field values in `unique`.
  ContactsStore(db::Pool& pool, events::Outbox& outbox, const fields::UniqueValues& unique)
      : pool_(pool), outbox_(outbox), unique_(unique) {}

  // Inserts a new contact whose fields are already normalised. With a request id, a second call
  // with the same id returns the first call's contact. Emails/phones held by another contact:
  // ALREADY_EXISTS with a ResourceInfo naming it.
  absl::StatusOr<v1::Contact> CreateContact(const std::string& tenant, const v1::Contact& contact,
                                            const std::string& creator,
                                            const std::string& request_id, absl::Time deadline,
                                            const WriteGuard& guard = nullptr);
  absl::StatusOr<v1::Contact> GetContact(const std::string& tenant, const std::string& id,
                                         absl::Time deadline);
  // Live contacts in id order matching `filter` (compiled with its first placeholder at $4).
  absl::StatusOr<PageResult<v1::Contact>> ListContacts(const std::string& tenant, const Page& page,
                                                       const api::SqlFilter& filter,
                                                       absl::Time deadline);
  // Live contacts matching `filter` (compiled with its first placeholder at $2).
  absl::StatusOr<int64_t> CountContacts(const std::string& tenant, const api::SqlFilter& filter,
                                        absl::Time deadline);
  absl::StatusOr<v1::Contact> UpdateContact(const std::string& tenant, const std::string& id,
                                            const std::string& actor,
                                            const Mutation<v1::Contact>& mutate,
                                            absl::Time deadline, const WriteGuard& guard = nullptr);
  // Whether `name` ("contacts/{id}" or "companies/{id}") is a live record of the tenant.
  absl::StatusOr<bool> RecordExists(const std::string& tenant, const std::string& name,
                                    absl::Time deadline);
  // Soft delete; `check` sees the current record (etag, permissions) before anything changes.
  absl::Status DeleteContact(const std::string& tenant, const std::string& id,
                             const std::string& actor,
                             const std::function<absl::Status(const v1::Contact&)>& check,
                             absl::Time deadline);

  // Batch building blocks (imports): queue a create or an update of an already locked-or-read
  // contact into `tx`, with its keys and events. `contact`/`next` get their output fields; a
  // `contact` with a name keeps that id.
  void QueueCreate(db::Transaction& tx, const std::string& tenant, v1::Contact& contact,
                   const std::string& creator);
  // Many creates in three statements (contacts, keys, events): the import's fast path.
  void QueueCreateMany(db::Transaction& tx, const std::string& tenant,
                       std::vector<v1::Contact>& contacts, const std::string& creator);
  void QueueUpdate(db::Transaction& tx, const std::string& tenant, const v1::Contact& current,
                   v1::Contact& next, const std::vector<std::string>& changed,
                   const std::string& actor);
  // Which contacts hold these keys: "email:<key>" / "phone:<e164>" -> "contacts/{id}".
  absl::StatusOr<std::map<std::string, std::string>> LookupKeys(
      db::Transaction& tx, const std::string& tenant, const std::vector<std::string>& email_keys,
      const std::vector<std::string>& phones);
  // Live contacts by id (uuid), locked for update in id order, keyed by resource name.
  absl::StatusOr<std::map<std::string, v1::Contact>> LockContacts(
      db::Transaction& tx, const std::string& tenant, const std::vector<std::string>& ids);
  // The stored report of a finished import, if any.
  absl::StatusOr<std::optional<std::string>> FindImport(const std::string& tenant,
                                                        const std::string& author,
                                                        const std::string& import_id,
                                                        absl::Time deadline);
  // Records a finished import's report; the first report of an id wins.
  absl::Status SaveImport(const std::string& tenant, const std::string& import_id,
                          const std::string& author, const std::string& report,
                          absl::Time deadline);
  // The pool, for callers that compose a transaction of the building blocks above.
  db::Pool& pool() { return pool_; }

  // Ranked full-text + trigram search over names, emails, phones and company names.
  // `limit` rows from `offset`.
  absl::StatusOr<std::vector<SearchHit>> SearchContacts(const std::string& tenant,
                                                        const std::string& query, int offset,
                                                        int limit, absl::Time deadline);
  // Live contacts whose name resembles `contact`'s (trigram similarity), with the similarity of
  // their full names as the score; the caller weighs in company and emails.
  absl::StatusOr<std::vector<SearchHit>> SimilarlyNamed(const std::string& tenant,
                                                        const v1::Contact& contact, int limit,
                                                        absl::Time deadline);
  // Merges `loser_id` into `winner_id` in one transaction (both rows locked in id order, so
  // concurrent merges cannot interleave): keys, emails, phones, tags, attributes, activities and
  // the custom field values the winner lacks (unique ones with their claims) move to the winner;
  // the loser becomes a tombstone. `check` sees both before anything changes.
  // Merging a loser already merged into the winner returns the winner unchanged.
  absl::StatusOr<v1::Contact> MergeContacts(
      const std::string& tenant, const std::string& winner_id, const std::string& loser_id,
      const std::string& actor,
      const std::function<absl::Status(const v1::Contact& winner, const v1::Contact& loser)>& check,
      absl::Time deadline);

  absl::StatusOr<v1::Company> CreateCompany(const std::string& tenant, const v1::Company& company,
                                            const std::string& creator,
                                            const std::string& request_id, absl::Time deadline,
                                            const WriteGuard& guard = nullptr);
  absl::StatusOr<v1::Company> GetCompany(const std::string& tenant, const std::string& id,
                                         absl::Time deadline);
  // Live companies in id order matching `filter` (first placeholder at $4).
  absl::StatusOr<PageResult<v1::Company>> ListCompanies(const std::string& tenant, const Page& page,
                                                        const api::SqlFilter& filter,
                                                        absl::Time deadline);
  absl::StatusOr<v1::Company> UpdateCompany(const std::string& tenant, const std::string& id,
                                            const std::string& actor,
                                            const Mutation<v1::Company>& mutate,
                                            absl::Time deadline, const WriteGuard& guard = nullptr);
  absl::Status DeleteCompany(const std::string& tenant, const std::string& id,
                             const std::string& actor,
                             const std::function<absl::Status(const v1::Company&)>& check,
                             absl::Time deadline);

  // The stored settings, or nullopt when the tenant has never changed them.
  absl::StatusOr<std::optional<v1::TenantSettings>> GetTenantSettings(const std::string& tenant,
                                                                      absl::Time deadline);
  // Writes settings; `expected_etag` (if not empty) must match the stored version.
  absl::StatusOr<v1::TenantSettings> UpsertTenantSettings(const std::string& tenant,
                                                          const std::string& actor,
                                                          const v1::TenantSettings& settings,
                                                          const std::string& expected_etag,
                                                          absl::Time deadline);

 private:
  // The ALREADY_EXISTS error naming the contact that holds one of `contact`'s emails or phones.
  absl::Status DuplicateContactError(const std::string& tenant, const v1::Contact& contact,
                                     absl::Time deadline);
  absl::Status DuplicateCompanyError(const std::string& tenant, const v1::Company& company,
                                     absl::Time deadline);

  db::Pool& pool_;
  events::Outbox& outbox_;
  const fields::UniqueValues& unique_;
};

}  // namespace crm::contacts
