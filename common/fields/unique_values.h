// Values of unique custom fields (fields/migrations/10003): a record's write claims the values it
// holds in the table whose primary key is the rule, so two concurrent writes of one value cannot
// both commit (never check-then-insert). The write's error then names the holder.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/fields/custom_field_rules.h"

namespace crm::fields {

// What one record write claimed: (key, compared form) pairs, to name the holder on a conflict.
struct UniqueClaims {
  std::string record;
  std::vector<std::pair<std::string, std::string>> values;
};

class UniqueValues final {
 public:
  // `schema` is the service's, holding custom_field_unique.
  UniqueValues(db::Pool& pool, std::string schema) : pool_(pool), schema_(std::move(schema)) {}

  // Queued into a record's write after the record: the record lets go of what it held for the
  // object's unique fields, then claims what `values` holds. Nothing is queued when no definition
  // is unique. A value another record holds fails the commit (IsConflict).
  UniqueClaims QueueClaims(db::Transaction& tx, common::v1::ObjectType object,
                           const std::vector<Definition>& definitions, const std::string& record,
                           const Values& values) const;
  // Queued into a record's delete: its values are free for others.
  void QueueRelease(db::Transaction& tx, common::v1::ObjectType object,
                    const std::string& record) const;
  // Queued into a merge: the values of `keys` pass from one record to the other (which held
  // none of them); the loser's others are released.
  void QueueHandOver(db::Transaction& tx, common::v1::ObjectType object, const std::string& from,
                     const std::string& to, const std::vector<std::string>& keys) const;
  // Queued into the deletion of a definition: its values go with it.
  void QueuePurge(db::Transaction& tx, common::v1::ObjectType object, const std::string& key) const;

  // The compared form of an email value (claims fold ASCII case, as contact emails do).
  static std::string FoldEmail(absl::string_view email);
  // The table of the claims, "<schema>.custom_field_unique".
  std::string Table() const { return schema_ + ".custom_field_unique"; }

  static bool IsConflict(const absl::Status& status);
  // After a failed write (IsConflict): ALREADY_EXISTS naming the record that holds one of the
  // claimed values, under "<field>.<key>"; ABORTED when the holder let go since (a retry works).
  absl::Status ConflictError(const std::string& tenant, common::v1::ObjectType object,
                             const UniqueClaims& claims, absl::string_view field,
                             absl::string_view resource_type, absl::Time deadline) const;

 private:
  db::Pool& pool_;
  const std::string schema_;
};

}  // namespace crm::fields
