#include "services/contacts/activity_store.h"

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/contacts/store_support.h"

namespace crm::contacts {
namespace {

constexpr char kActivityColumns[] =
    "id, kind, contact_id, company_id, opportunity, author, "
    "(extract(epoch FROM occur_time) * 1000000)::bigint, duration_ms, outcome, subject, body, "
    "(extract(epoch FROM create_time) * 1000000)::bigint";

v1::Activity ActivityFromRow(const Result& r, int row) {
  v1::Activity a;
  a.set_name(absl::StrCat(kActivityPrefix, r.Text(row, 0)));
  a.set_kind(ActivityKindFromText(r.Text(row, 1)));
  a.set_contact(absl::StrCat(kContactPrefix, r.Text(row, 2)));
  if (!r.IsNull(row, 3)) a.set_company(absl::StrCat(kCompanyPrefix, r.Text(row, 3)));
  a.set_opportunity(r.String(row, 4));
  a.set_author(r.String(row, 5));
  SetTimestamp(a.mutable_occur_time(), r.Int(row, 6));
  const int64_t ms = r.Int(row, 7);
  a.mutable_duration()->set_seconds(ms / 1000);
  a.mutable_duration()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
  a.set_outcome(r.String(row, 8));
  a.set_subject(r.String(row, 9));
  a.set_body(r.String(row, 10));
  SetTimestamp(a.mutable_create_time(), r.Int(row, 11));
  return a;
}

int64_t MicrosOf(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

}  // namespace

absl::StatusOr<v1::Activity> ActivityStore::Log(const std::string& tenant,
                                                const v1::Activity& activity,
                                                const std::string& author,
                                                const std::string& request_id,
                                                absl::Time deadline) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = NowMicros();
  const std::string contact_id = activity.contact().substr(kContactPrefix.size());
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // Stamp the contact (only if this touch is its latest) and insert the activity in one
  // statement; no row back means the contact is missing or the request id was used before.
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(
          absl::StrCat(
              "WITH c AS (UPDATE contacts.contacts SET "
              "last_contacted_by = CASE WHEN $12 AND (last_contacted_time IS NULL OR "
              "last_contacted_time <= ",
              TimeParam(7),
              ") THEN $6 ELSE last_contacted_by END, "
              "last_contacted_time = CASE WHEN $12 AND (last_contacted_time IS NULL OR "
              "last_contacted_time <= ",
              TimeParam(7), ") THEN ", TimeParam(7),
              " ELSE last_contacted_time END "
              "WHERE tenant_id = $1 AND id = $3::uuid AND delete_time IS NULL "
              "RETURNING company_id) "
              "INSERT INTO contacts.activities (tenant_id, id, kind, contact_id, company_id, "
              "opportunity, author, occur_time, duration_ms, outcome, subject, body, "
              "create_request_id, create_time) SELECT $1, $2::uuid, $13, $3::uuid, "
              "coalesce($4::uuid, c.company_id), $5, $6, ",
              TimeParam(7),
              ", $8, $9, $10, $11, "
              "$14, ",
              TimeParam(15),
              " FROM c ON CONFLICT (tenant_id, author, create_request_id) "
              "WHERE create_request_id IS NOT NULL DO NOTHING RETURNING ",
              kActivityColumns),
          {tenant, id, contact_id,
           activity.company().empty() ? Param()
                                      : Param(activity.company().substr(kCompanyPrefix.size())),
           activity.opportunity(), author, absl::StrCat(MicrosOf(activity.occur_time())),
           absl::StrCat(activity.duration().seconds() * 1000 +
                        activity.duration().nanos() / 1000000),
           activity.outcome(), activity.subject(), activity.body(),
           CountsAsContact(activity.kind()) ? "true" : "false", ActivityKindToText(activity.kind()),
           request_id.empty() ? Param() : Param(request_id),
           absl::StrCat(absl::ToUnixMicros(now))}));
  if (rows.rows() == 0) {
    if (!request_id.empty()) {
      ASSIGN_OR_RETURN(Result first,
                       tx.Exec(absl::StrCat("SELECT ", kActivityColumns,
                                            " FROM contacts.activities WHERE tenant_id = $1 AND "
                                            "author = $3 AND create_request_id = $2"),
                               {tenant, request_id, author}));
      if (first.rows() == 1) {
        RETURN_IF_ERROR(tx.Commit());
        return ActivityFromRow(first, 0);
      }
    }
    return absl::NotFoundError(
        absl::StrCat("activity.contact: ", activity.contact(), " does not exist"));
  }
  v1::Activity logged = ActivityFromRow(rows, 0);
  v1::ActivityLogged event;
  *event.mutable_activity() = logged;
  outbox_.Append(tx, tenant, Draft<v1::Activity>(logged.name(), author, now, event));
  RETURN_IF_ERROR(tx.Commit());
  return logged;
}

absl::StatusOr<PageResult<v1::Activity>> ActivityStore::List(const std::string& tenant,
                                                             bool by_company,
                                                             const std::string& parent_id,
                                                             const TimelineCursor& after,
                                                             int page_size, absl::Time deadline) {
  const char* parent_column = by_company ? "company_id" : "contact_id";
  ASSIGN_OR_RETURN(Result r,
                   RunOnce(pool_, tenant,
                           absl::StrCat("SELECT ", kActivityColumns,
                                        " FROM contacts.activities WHERE "
                                        "tenant_id = $1 AND ",
                                        parent_column,
                                        " = $2::uuid AND ($3::uuid IS NULL "
                                        "OR (occur_time, id) < (",
                                        TimeParam(4),
                                        ", $3::uuid)) "
                                        "ORDER BY occur_time DESC, id DESC LIMIT $5"),
                           {tenant, parent_id, after.id.empty() ? Param() : Param(after.id),
                            absl::StrCat(after.occur_micros), absl::StrCat(page_size + 1)},
                           deadline));
  PageResult<v1::Activity> out;
  out.more = r.rows() > page_size;
  for (int i = 0; i < std::min(r.rows(), page_size); ++i) {
    out.items.push_back(ActivityFromRow(r, i));
  }
  return out;
}

}  // namespace crm::contacts
