// SQL of custom field definitions, for a service whose objects carry them (the tables of
// fields/migrations, in the service's schema), and the per-process cache record writes validate
// against. A record write checks in its own transaction that the cached definitions are still
// current (QueueVersionCheck); changes of definitions lock the object exclusively, so no record is
// written against definitions that changed under it, whichever replica made the change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/fields/custom_field_rules.h"
#include "common/fields/unique_values.h"

namespace crm::fields {

// An object's definitions as of `version` (archived ones included), ordered by key.
struct Snapshot {
  int64_t version = 0;
  std::vector<Definition> definitions;
};

class DefinitionStore final {
 public:
  using Mutation = std::function<absl::StatusOr<Definition>(const Definition& current)>;

  // `schema` is the service's ("contacts"); `record_tables` names the table of each object the
  // service owns ("contacts.contacts"), each with jsonb columns custom_fields and
  // archived_custom_fields.
  DefinitionStore(db::Pool& pool, events::Outbox& outbox, std::string schema,
                  std::map<common::v1::ObjectType, std::string> record_tables);

  // NOT_FOUND naming the parent for an object another service owns.
  absl::Status CheckOwned(common::v1::ObjectType object) const;

  // ALREADY_EXISTS for a key in use; FAILED_PRECONDITION past kMaxDefinitionsPerObject.
  absl::StatusOr<Definition> Create(const std::string& tenant, const Definition& definition,
                                    const std::string& actor, absl::Time deadline);
  absl::StatusOr<Definition> Get(const std::string& tenant, common::v1::ObjectType object,
                                 const std::string& key, absl::Time deadline);
  absl::StatusOr<std::vector<Definition>> List(const std::string& tenant,
                                               common::v1::ObjectType object, bool show_archived,
                                               absl::Time deadline);
  // Archiving moves the values out of records' custom_fields (kept, hidden); unarchiving brings
  // them back.
  absl::StatusOr<Definition> Update(const std::string& tenant, common::v1::ObjectType object,
                                    const std::string& key, const std::string& actor,
                                    const Mutation& mutate, absl::Time deadline);
  // Purges the values from every record of the object.
  absl::Status Delete(const std::string& tenant, common::v1::ObjectType object,
                      const std::string& key, const std::string& actor,
                      const std::function<absl::Status(const Definition&)>& check,
                      absl::Time deadline);

  // The definitions record writes validate against: cached until a write finds them stale.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current(const std::string& tenant,
                                                          common::v1::ObjectType object,
                                                          absl::Time deadline);
  void Forget(const std::string& tenant, common::v1::ObjectType object);

  // Queued into a record write: takes the object's lock shared and fails the transaction with
  // ABORTED (IsStale) when the definitions are no longer at `version`.
  void QueueVersionCheck(db::Transaction& tx, common::v1::ObjectType object, int64_t version) const;
  static bool IsStale(const absl::Status& status);

  // The claims of unique values, in this service's schema.
  const UniqueValues& unique() const { return unique_; }

 private:
  // Begins a change of the object's definitions: the exclusive lock, held to commit.
  absl::StatusOr<db::Transaction> BeginChange(const std::string& tenant,
                                              common::v1::ObjectType object, absl::Time deadline);
  void QueueVersionBump(db::Transaction& tx, const std::string& tenant,
                        common::v1::ObjectType object) const;
  void AppendChanged(db::Transaction& tx, const std::string& tenant, const Definition& definition,
                     bool deleted, const std::string& actor) const;
  std::string Table(absl::string_view name) const { return absl::StrCat(schema_, ".", name); }

  db::Pool& pool_;
  events::Outbox& outbox_;
  const std::string schema_;
  const std::map<common::v1::ObjectType, std::string> record_tables_;
  const UniqueValues unique_;

  static constexpr size_t kMaxCached = 10000;  // tenant-objects; then the cache starts over
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Snapshot>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace crm::fields
