#include "common/fields/definition_store.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"

namespace crm::fields {
namespace {

using common::v1::ObjectType;
using db::Param;
using db::Result;
using db::Transaction;

constexpr char kColumns[] =
    "key, definition::text, version, (extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint";
// Part of the message of the error custom_fields_check_version raises (fields/migrations).
constexpr absl::string_view kStaleMessage = "custom field definitions changed";

std::string ObjectParam(ObjectType object) { return std::string(ObjectSegment(object)); }

// The stored body: what the admin wrote, without what the row says (name, times, etag).
std::string BodyJson(const Definition& definition) {
  Definition body = definition;
  body.clear_name();
  body.clear_object_type();
  body.clear_create_time();
  body.clear_update_time();
  body.clear_etag();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(body, &json, options);
  return json;
}

absl::StatusOr<Definition> FromRow(ObjectType object, const Result& r, int row) {
  Definition d;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(r.Text(row, 1)), &d, options).ok()) {
    return absl::InternalError(
        absl::StrCat("stored custom field ", r.Text(row, 0), " is unreadable"));
  }
  d.set_key(std::string(r.Text(row, 0)));
  d.set_object_type(object);
  d.set_name(DefinitionNameOf(object, d.key()));
  d.set_etag(std::string(r.Text(row, 2)));
  db::SetTimestamp(d.mutable_create_time(), r.Int(row, 3));
  db::SetTimestamp(d.mutable_update_time(), r.Int(row, 4));
  return d;
}

absl::Status NotFound(ObjectType object, absl::string_view key) {
  return absl::NotFoundError(absl::StrCat(DefinitionNameOf(object, key), " not found"));
}

std::string CacheKey(const std::string& tenant, ObjectType object) {
  return absl::StrCat(tenant, "/", ObjectSegment(object));
}

}  // namespace

DefinitionStore::DefinitionStore(db::Pool& pool, events::Outbox& outbox, std::string schema,
                                 std::map<ObjectType, std::string> record_tables)
    : pool_(pool),
      outbox_(outbox),
      schema_(std::move(schema)),
      record_tables_(std::move(record_tables)),
      unique_(pool, schema_) {}

absl::Status DefinitionStore::CheckOwned(ObjectType object) const {
  if (record_tables_.count(object) == 0) {
    return absl::NotFoundError(absl::StrCat("objectTypes/", ObjectSegment(object),
                                            " has no custom fields in this service"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Transaction> DefinitionStore::BeginChange(const std::string& tenant,
                                                         ObjectType object, absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  tx.Queue(
      absl::StrCat("SELECT pg_advisory_xact_lock(", Table("custom_fields_lock_key"), "($1, $2))"),
      {tenant, ObjectParam(object)});
  return tx;
}

void DefinitionStore::QueueVersionBump(Transaction& tx, const std::string& tenant,
                                       ObjectType object) const {
  tx.Queue(
      absl::StrCat("INSERT INTO ", Table("custom_field_versions"),
                   " AS v (tenant_id, object_type, version) VALUES ($1, $2, 1) "
                   "ON CONFLICT (tenant_id, object_type) DO UPDATE SET version = v.version + 1"),
      {tenant, ObjectParam(object)});
}

void DefinitionStore::AppendChanged(Transaction& tx, const std::string& tenant,
                                    const Definition& definition, bool deleted,
                                    const std::string& actor) const {
  common::v1::CustomFieldChanged event;
  *event.mutable_custom_field() = definition;
  event.set_deleted(deleted);
  outbox_.Append(tx, tenant,
                 events::Draft<Definition>(definition.name(), actor, db::NowMicros(), event));
}

absl::StatusOr<Definition> DefinitionStore::Create(const std::string& tenant,
                                                   const Definition& definition,
                                                   const std::string& actor, absl::Time deadline) {
  const ObjectType object = definition.object_type();
  RETURN_IF_ERROR(CheckOwned(object));
  ASSIGN_OR_RETURN(Transaction tx, BeginChange(tenant, object, deadline));
  ASSIGN_OR_RETURN(Result count,
                   tx.Exec(absl::StrCat("SELECT count(*) FROM ", Table("custom_fields"),
                                        " WHERE tenant_id = $1 AND object_type = $2"),
                           {tenant, ObjectParam(object)}));
  if (count.Int(0, 0) >= kMaxDefinitionsPerObject) {
    return absl::FailedPreconditionError(
        absl::StrCat("objectTypes/", ObjectSegment(object), " already has ",
                     kMaxDefinitionsPerObject, " custom fields (the most allowed); delete one"));
  }
  const absl::Time now = db::NowMicros();
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("INSERT INTO ", Table("custom_fields"),
                           " (tenant_id, object_type, key, definition, create_time, update_time) "
                           "VALUES ($1, $2, $3, $4::jsonb, ",
                           db::TimeParam(5), ", ", db::TimeParam(5),
                           ") ON CONFLICT DO NOTHING RETURNING ", kColumns),
              {tenant, ObjectParam(object), definition.key(), BodyJson(definition),
               db::MicrosParam(now)}));
  if (rows.rows() == 0) {
    tx.Abort();
    return api::AlreadyExistsResource(
        Definition::descriptor()->full_name(), DefinitionNameOf(object, definition.key()),
        absl::StrCat("a custom field with key '", definition.key(), "' exists on this object"));
  }
  ASSIGN_OR_RETURN(Definition created, FromRow(object, rows, 0));
  QueueVersionBump(tx, tenant, object);
  AppendChanged(tx, tenant, created, false, actor);
  RETURN_IF_ERROR(tx.Commit());
  Forget(tenant, object);
  return created;
}

absl::StatusOr<Definition> DefinitionStore::Get(const std::string& tenant, ObjectType object,
                                                const std::string& key, absl::Time deadline) {
  RETURN_IF_ERROR(CheckOwned(object));
  ASSIGN_OR_RETURN(Result r,
                   db::RunOnce(pool_, tenant,
                               absl::StrCat("SELECT ", kColumns, " FROM ", Table("custom_fields"),
                                            " WHERE tenant_id = $1 AND "
                                            "object_type = $2 AND key = $3"),
                               {tenant, ObjectParam(object), key}, deadline));
  if (r.rows() == 0) return NotFound(object, key);
  return FromRow(object, r, 0);
}

absl::StatusOr<std::vector<Definition>> DefinitionStore::List(const std::string& tenant,
                                                              ObjectType object, bool show_archived,
                                                              absl::Time deadline) {
  RETURN_IF_ERROR(CheckOwned(object));
  ASSIGN_OR_RETURN(Result r,
                   db::RunOnce(pool_, tenant,
                               absl::StrCat("SELECT ", kColumns, " FROM ", Table("custom_fields"),
                                            " WHERE tenant_id = $1 AND "
                                            "object_type = $2 ORDER BY key"),
                               {tenant, ObjectParam(object)}, deadline));
  std::vector<Definition> out;
  for (int i = 0; i < r.rows(); ++i) {
    ASSIGN_OR_RETURN(Definition d, FromRow(object, r, i));
    if (show_archived || !d.archived()) out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<Definition> DefinitionStore::Update(const std::string& tenant, ObjectType object,
                                                   const std::string& key, const std::string& actor,
                                                   const Mutation& mutate, absl::Time deadline) {
  RETURN_IF_ERROR(CheckOwned(object));
  ASSIGN_OR_RETURN(Transaction tx, BeginChange(tenant, object, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("SELECT ", kColumns, " FROM ", Table("custom_fields"),
                                        " WHERE tenant_id = $1 AND object_type = $2 AND key = $3"),
                           {tenant, ObjectParam(object), key}));
  if (current.rows() == 0) return NotFound(object, key);
  ASSIGN_OR_RETURN(Definition before, FromRow(object, current, 0));
  ASSIGN_OR_RETURN(Definition next, mutate(before));
  ASSIGN_OR_RETURN(Result rows,
                   tx.Exec(absl::StrCat("UPDATE ", Table("custom_fields"),
                                        " SET definition = $4::jsonb, version = version + 1, "
                                        "update_time = now() WHERE tenant_id = $1 AND "
                                        "object_type = $2 AND key = $3 RETURNING ",
                                        kColumns),
                           {tenant, ObjectParam(object), key, BodyJson(next)}));
  ASSIGN_OR_RETURN(Definition updated, FromRow(object, rows, 0));
  if (before.archived() != updated.archived()) {
    // Archived values wait in archived_custom_fields, so reads never need the definitions.
    const char* from = updated.archived() ? "custom_fields" : "archived_custom_fields";
    const char* to = updated.archived() ? "archived_custom_fields" : "custom_fields";
    tx.Queue(absl::StrCat("UPDATE ", record_tables_.at(object), " SET ", to, " = ", to,
                          " || jsonb_build_object($2::text, ", from, " -> $2::text), ", from, " = ",
                          from, " - $2::text, version = version + 1 ", "WHERE tenant_id = $1 AND ",
                          from, " ? $2::text"),
             {tenant, key});
  }
  QueueVersionBump(tx, tenant, object);
  AppendChanged(tx, tenant, updated, false, actor);
  RETURN_IF_ERROR(tx.Commit());
  Forget(tenant, object);
  return updated;
}

absl::Status DefinitionStore::Delete(const std::string& tenant, ObjectType object,
                                     const std::string& key, const std::string& actor,
                                     const std::function<absl::Status(const Definition&)>& check,
                                     absl::Time deadline) {
  RETURN_IF_ERROR(CheckOwned(object));
  ASSIGN_OR_RETURN(Transaction tx, BeginChange(tenant, object, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("DELETE FROM ", Table("custom_fields"),
                                        " WHERE tenant_id = $1 AND object_type = $2 AND key = $3 "
                                        "RETURNING ",
                                        kColumns),
                           {tenant, ObjectParam(object), key}));
  if (current.rows() == 0) return NotFound(object, key);
  ASSIGN_OR_RETURN(Definition deleted, FromRow(object, current, 0));
  RETURN_IF_ERROR(check(deleted));  // rolls back the delete when refused
  tx.Queue(absl::StrCat("UPDATE ", record_tables_.at(object),
                        " SET custom_fields = custom_fields - $2::text, "
                        "archived_custom_fields = archived_custom_fields - $2::text, "
                        "version = version + 1 WHERE tenant_id = $1 AND "
                        "(custom_fields ? $2::text OR archived_custom_fields ? $2::text)"),
           {tenant, key});
  unique_.QueuePurge(tx, object, key);
  QueueVersionBump(tx, tenant, object);
  AppendChanged(tx, tenant, deleted, true, actor);
  RETURN_IF_ERROR(tx.Commit());
  Forget(tenant, object);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> DefinitionStore::Current(const std::string& tenant,
                                                                         ObjectType object,
                                                                         absl::Time deadline) {
  const std::string cache_key = CacheKey(tenant, object);
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) return it->second;
  }
  // The version and the definitions from one snapshot.
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("SELECT f.key, f.definition::text, f.version, "
                               "(extract(epoch FROM f.create_time) * 1000000)::bigint, "
                               "(extract(epoch FROM f.update_time) * 1000000)::bigint, v.version "
                               "FROM (SELECT coalesce(max(version), 0) AS version FROM ",
                               Table("custom_field_versions"),
                               " WHERE tenant_id = $1 AND object_type = $2) v LEFT JOIN ",
                               Table("custom_fields"),
                               " f ON f.tenant_id = $1 AND f.object_type = $2 ORDER BY f.key"),
                  {tenant, ObjectParam(object)}, deadline));
  auto snapshot = std::make_shared<Snapshot>();
  for (int i = 0; i < r.rows(); ++i) {
    snapshot->version = r.Int(i, 5);
    if (r.IsNull(i, 0)) continue;
    ASSIGN_OR_RETURN(Definition d, FromRow(object, r, i));
    snapshot->definitions.push_back(std::move(d));
  }
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[cache_key] = snapshot;
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

void DefinitionStore::Forget(const std::string& tenant, ObjectType object) {
  absl::MutexLock lock(&mu_);
  cache_.erase(CacheKey(tenant, object));
}

void DefinitionStore::QueueVersionCheck(Transaction& tx, ObjectType object, int64_t version) const {
  tx.Queue(absl::StrCat("SELECT ", Table("custom_fields_check_version"), "($1, $2::bigint)"),
           {ObjectParam(object), absl::StrCat(version)});
}

bool DefinitionStore::IsStale(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAborted &&
         absl::StrContains(status.message(), kStaleMessage);
}

}  // namespace crm::fields
