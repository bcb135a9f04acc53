#include "common/fields/unique_values.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/db/sqlstate.h"

namespace crm::fields {
namespace {

// The primary key of custom_field_unique (fields/migrations/10003).
constexpr absl::string_view kConstraint = "custom_field_unique_value";

}  // namespace

std::string UniqueValues::FoldEmail(absl::string_view email) {
  return absl::AsciiStrToLower(email);
}

UniqueClaims UniqueValues::QueueClaims(db::Transaction& tx, common::v1::ObjectType object,
                                       const std::vector<Definition>& definitions,
                                       const std::string& record, const Values& values) const {
  UniqueClaims claims{record, {}};
  std::vector<std::string> unique_keys;
  std::vector<std::string> keys;
  std::vector<std::string> forms;
  for (const Definition& d : definitions) {
    if (!d.unique() || d.archived()) continue;  // archived values stay claimed, hidden
    unique_keys.push_back(d.key());
    auto it = values.find(d.key());
    if (it == values.end() || it->second.kind_case() == Value::KIND_NOT_SET) continue;
    keys.push_back(d.key());
    forms.push_back(UniqueForm(d, it->second, FoldEmail));
    claims.values.emplace_back(keys.back(), forms.back());
  }
  if (unique_keys.empty()) return claims;
  const std::string object_type(ObjectSegment(object));
  tx.Queue(absl::StrCat("DELETE FROM ", Table(),
                        " WHERE tenant_id = current_setting('app.tenant', true) AND "
                        "object_type = $1 AND record = $2 AND key = ANY($3::text[])"),
           {object_type, record, db::ToArrayLiteral(unique_keys)});
  if (keys.empty()) return claims;
  tx.Queue(absl::StrCat("INSERT INTO ", Table(),
                        " (tenant_id, object_type, key, value, record) "
                        "SELECT current_setting('app.tenant', true), $1, k, v, $2 "
                        "FROM unnest($3::text[], $4::text[]) AS u(k, v)"),
           {object_type, record, db::ToArrayLiteral(keys), db::ToArrayLiteral(forms)});
  return claims;
}

void UniqueValues::QueueRelease(db::Transaction& tx, common::v1::ObjectType object,
                                const std::string& record) const {
  tx.Queue(absl::StrCat("DELETE FROM ", Table(),
                        " WHERE tenant_id = current_setting('app.tenant', true) AND "
                        "object_type = $1 AND record = $2"),
           {std::string(ObjectSegment(object)), record});
}

void UniqueValues::QueueHandOver(db::Transaction& tx, common::v1::ObjectType object,
                                 const std::string& from, const std::string& to,
                                 const std::vector<std::string>& keys) const {
  const std::string object_type(ObjectSegment(object));
  tx.Queue(absl::StrCat("UPDATE ", Table(),
                        " SET record = $3 WHERE tenant_id = current_setting('app.tenant', true) "
                        "AND object_type = $1 AND record = $2 AND key = ANY($4::text[])"),
           {object_type, from, to, db::ToArrayLiteral(keys)});
  QueueRelease(tx, object, from);
}

void UniqueValues::QueuePurge(db::Transaction& tx, common::v1::ObjectType object,
                              const std::string& key) const {
  tx.Queue(absl::StrCat("DELETE FROM ", Table(),
                        " WHERE tenant_id = current_setting('app.tenant', true) AND "
                        "object_type = $1 AND key = $2"),
           {std::string(ObjectSegment(object)), key});
}

bool UniqueValues::IsConflict(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists &&
         db::ConstraintOf(status) == kConstraint;
}

absl::Status UniqueValues::ConflictError(const std::string& tenant, common::v1::ObjectType object,
                                         const UniqueClaims& claims, absl::string_view field,
                                         absl::string_view resource_type,
                                         absl::Time deadline) const {
  std::vector<std::string> keys;
  std::vector<std::string> forms;
  for (const auto& claim : claims.values) {
    keys.push_back(claim.first);
    forms.push_back(claim.second);
  }
  ASSIGN_OR_RETURN(
      db::Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("SELECT u.key, u.record FROM ", Table(),
                               " u JOIN unnest($3::text[], $4::text[]) AS c(k, v) "
                               "ON u.key = c.k AND u.value = c.v WHERE u.tenant_id = $1 AND "
                               "u.object_type = $2 AND u.record <> $5 ORDER BY u.key LIMIT 1"),
                  {tenant, std::string(ObjectSegment(object)), db::ToArrayLiteral(keys),
                   db::ToArrayLiteral(forms), claims.record},
                  deadline));
  if (r.rows() == 0) {
    return absl::AbortedError("a concurrent change freed the unique custom field value; retry");
  }
  return api::AlreadyExistsResource(
      resource_type, r.Text(0, 1),
      absl::StrCat(field, ".", r.Text(0, 0), ": this value of a unique custom field is taken"));
}

}  // namespace crm::fields
