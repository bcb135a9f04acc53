#include "services/contacts/segment_store.h"

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/contacts/store_support.h"

namespace crm::contacts {
namespace {

constexpr absl::string_view kSegmentPrefix = "segments/";
constexpr char kSegmentColumns[] =
    "id, display_name, filter, owner, version, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint";

v1::Segment SegmentFromRow(const Result& r, int row) {
  v1::Segment s;
  s.set_name(absl::StrCat(kSegmentPrefix, r.Text(row, 0)));
  s.set_display_name(r.String(row, 1));
  s.set_filter(r.String(row, 2));
  s.set_owner(r.String(row, 3));
  s.set_etag(r.String(row, 4));
  SetTimestamp(s.mutable_create_time(), r.Int(row, 5));
  SetTimestamp(s.mutable_update_time(), r.Int(row, 6));
  return s;
}

void AppendChanged(events::Outbox& outbox, Transaction& tx, const std::string& tenant,
                   const v1::Segment& segment, bool deleted, const std::string& actor) {
  v1::SegmentChanged event;
  *event.mutable_segment() = segment;
  event.set_deleted(deleted);
  outbox.Append(tx, tenant, Draft<v1::Segment>(segment.name(), actor, NowMicros(), event));
}

}  // namespace

absl::StatusOr<v1::Segment> SegmentStore::Create(const std::string& tenant,
                                                 const v1::Segment& segment,
                                                 const std::string& actor,
                                                 const std::string& request_id,
                                                 absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("INSERT INTO contacts.segments (tenant_id, id, display_name, filter, "
                           "owner, create_request_id, creator) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                           "ON CONFLICT (tenant_id, creator, create_request_id) WHERE "
                           "create_request_id IS NOT NULL DO NOTHING RETURNING ",
                           kSegmentColumns),
              {tenant, ids::NewUuidV7(), segment.display_name(), segment.filter(), segment.owner(),
               request_id.empty() ? Param() : Param(request_id), actor}));
  if (rows.rows() == 0) {
    ASSIGN_OR_RETURN(Result first,
                     tx.Exec(absl::StrCat("SELECT ", kSegmentColumns,
                                          " FROM contacts.segments "
                                          "WHERE tenant_id = $1 AND creator = $3 AND "
                                          "create_request_id = $2 AND delete_time IS NULL"),
                             {tenant, request_id, actor}));
    RETURN_IF_ERROR(tx.Commit());
    if (first.rows() == 0) return absl::NotFoundError("the segment of this request_id was deleted");
    return SegmentFromRow(first, 0);
  }
  const v1::Segment created = SegmentFromRow(rows, 0);
  AppendChanged(outbox_, tx, tenant, created, false, actor);
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<v1::Segment> SegmentStore::Get(const std::string& tenant, const std::string& id,
                                              absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     absl::StrCat("SELECT ", kSegmentColumns,
                                                  " FROM contacts.segments WHERE tenant_id = $1 "
                                                  "AND id = $2::uuid AND delete_time IS NULL"),
                                     {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("segments/", id, " not found"));
  return SegmentFromRow(r, 0);
}

absl::StatusOr<PageResult<v1::Segment>> SegmentStore::List(const std::string& tenant,
                                                           const Page& page, absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      RunOnce(pool_, tenant,
              absl::StrCat("SELECT ", kSegmentColumns,
                           " FROM contacts.segments WHERE "
                           "tenant_id = $1 AND delete_time IS NULL AND ($2::uuid IS NULL OR "
                           "id > $2::uuid) ORDER BY id LIMIT $3"),
              {tenant, page.after_id.empty() ? Param() : Param(page.after_id),
               absl::StrCat(page.size + 1)},
              deadline));
  PageResult<v1::Segment> out;
  out.more = r.rows() > page.size;
  for (int i = 0; i < std::min(r.rows(), page.size); ++i) out.items.push_back(SegmentFromRow(r, i));
  return out;
}

absl::StatusOr<v1::Segment> SegmentStore::Update(const std::string& tenant, const std::string& id,
                                                 const std::string& actor,
                                                 const Mutation<v1::Segment>& mutate,
                                                 absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("SELECT ", kSegmentColumns,
                                        " FROM contacts.segments "
                                        "WHERE tenant_id = $1 AND id = $2::uuid AND "
                                        "delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current.rows() == 0) return absl::NotFoundError(absl::StrCat("segments/", id, " not found"));
  ASSIGN_OR_RETURN(v1::Segment next, mutate(SegmentFromRow(current, 0)));
  ASSIGN_OR_RETURN(Result rows,
                   tx.Exec(absl::StrCat("UPDATE contacts.segments SET display_name = $3, "
                                        "filter = $4, owner = $5, version = version + 1, "
                                        "update_time = now() WHERE tenant_id = $1 AND "
                                        "id = $2::uuid RETURNING ",
                                        kSegmentColumns),
                           {tenant, id, next.display_name(), next.filter(), next.owner()}));
  const v1::Segment updated = SegmentFromRow(rows, 0);
  AppendChanged(outbox_, tx, tenant, updated, false, actor);
  RETURN_IF_ERROR(tx.Commit());
  return updated;
}

absl::Status SegmentStore::Delete(const std::string& tenant, const std::string& id,
                                  const std::string& actor,
                                  const std::function<absl::Status(const v1::Segment&)>& check,
                                  absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current,
                   tx.Exec(absl::StrCat("SELECT ", kSegmentColumns,
                                        " FROM contacts.segments "
                                        "WHERE tenant_id = $1 AND id = $2::uuid AND "
                                        "delete_time IS NULL FOR UPDATE"),
                           {tenant, id}));
  if (current.rows() == 0) return absl::NotFoundError(absl::StrCat("segments/", id, " not found"));
  const v1::Segment segment = SegmentFromRow(current, 0);
  RETURN_IF_ERROR(check(segment));
  tx.Queue(
      "UPDATE contacts.segments SET delete_time = now(), version = version + 1 "
      "WHERE tenant_id = $1 AND id = $2::uuid",
      {tenant, id});
  AppendChanged(outbox_, tx, tenant, segment, true, actor);
  return tx.Commit();
}

absl::StatusOr<std::map<std::string, std::string>> SegmentStore::CompanyNames(
    const std::string& tenant, const std::vector<std::string>& company_names, absl::Time deadline) {
  std::map<std::string, std::string> out;
  if (company_names.empty()) return out;
  std::vector<std::string> ids;
  for (const std::string& name : company_names) ids.push_back(name.substr(kCompanyPrefix.size()));
  ASSIGN_OR_RETURN(Result r, RunOnce(pool_, tenant,
                                     "SELECT id, display_name FROM contacts.companies WHERE "
                                     "tenant_id = $1 AND id = ANY($2::uuid[])",
                                     {tenant, db::ToArrayLiteral(ids)}, deadline));
  for (int i = 0; i < r.rows(); ++i) {
    out[absl::StrCat(kCompanyPrefix, r.Text(i, 0))] = r.String(i, 1);
  }
  return out;
}

}  // namespace crm::contacts
