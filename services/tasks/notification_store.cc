#include "services/tasks/notification_store.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/ids/uuid.h"
#include "services/tasks/webhook_signature.h"

namespace crm::tasks {
namespace {

using db::Param;
using db::Result;
using db::Transaction;

constexpr int kMaxWebhooksPerTenant = 20;

const std::string& NotificationColumns() {
  static const auto* columns = new std::string(
      absl::StrCat("id, recipient, task_id, title, body, ", db::MicrosOf("due_time"), ", late, ",
                   db::MicrosOf("create_time"), ", ", db::MicrosOf("read_time")));
  return *columns;
}

v1::Notification NotificationFromRow(const Result& r, int row) {
  v1::Notification n;
  n.set_name(absl::StrCat("notifications/", r.Text(row, 0)));
  n.set_recipient(r.String(row, 1));
  n.set_task(absl::StrCat("tasks/", r.Text(row, 2)));
  n.set_title(r.String(row, 3));
  n.set_body(r.String(row, 4));
  db::SetTimestamp(n.mutable_due_time(), r.Int(row, 5));
  n.set_late(r.Bool(row, 6));
  db::SetTimestamp(n.mutable_create_time(), r.Int(row, 7));
  if (!r.IsNull(row, 8)) db::SetTimestamp(n.mutable_read_time(), r.Int(row, 8));
  return n;
}

v1::DeliveryState StateFromText(absl::string_view text) {
  if (text == "succeeded") return v1::DELIVERY_STATE_SUCCEEDED;
  if (text == "failed") return v1::DELIVERY_STATE_FAILED;
  return v1::DELIVERY_STATE_PENDING;
}

}  // namespace

absl::StatusOr<Page<v1::Notification>> NotificationStore::List(const std::string& tenant,
                                                               const std::string& recipient,
                                                               bool unread_only,
                                                               const std::string& before_id,
                                                               int page_size, absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(
          pool_, tenant,
          absl::StrCat("SELECT ", NotificationColumns(),
                       " FROM tasks.notifications WHERE tenant_id = $1 AND recipient = $2 "
                       "AND ($3::uuid IS NULL OR id < $3::uuid)",
                       unread_only ? " AND read_time IS NULL" : "", " ORDER BY id DESC LIMIT $4"),
          {tenant, recipient, before_id.empty() ? Param() : Param(before_id),
           absl::StrCat(page_size + 1)},
          deadline));
  Page<v1::Notification> page;
  page.more = r.rows() > page_size;
  for (int i = 0; i < std::min(r.rows(), page_size); ++i) {
    page.items.push_back(NotificationFromRow(r, i));
  }
  return page;
}

absl::StatusOr<v1::Notification> NotificationStore::MarkRead(const std::string& tenant,
                                                             const std::string& recipient,
                                                             const std::string& id,
                                                             absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("UPDATE tasks.notifications SET read_time = coalesce(read_time, "
                               "now()) WHERE tenant_id = $1 AND recipient = $2 AND id = $3::uuid "
                               "RETURNING ",
                               NotificationColumns()),
                  {tenant, recipient, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("notifications/", id, " not found"));
  return NotificationFromRow(r, 0);
}

absl::StatusOr<std::vector<v1::Notification>> NotificationStore::CreatedWithin(
    const std::string& tenant, const std::string& recipient, absl::Duration window,
    absl::Time deadline) {
  constexpr int kPage = 1000;
  std::vector<v1::Notification> out;
  // The window is measured on the database's clock, the same for every replica. Keyset pages
  // over (create_time, id): a busy recipient's window may hold many.
  Param after_micros, after_id;
  for (;;) {
    ASSIGN_OR_RETURN(
        Result r,
        db::RunOnce(
            pool_, tenant,
            absl::StrCat("SELECT ", NotificationColumns(),
                         " FROM tasks.notifications WHERE tenant_id = $1 AND recipient = "
                         "$2 AND create_time >= now() - $3::bigint * interval '1 "
                         "microsecond' AND ($4::bigint IS NULL OR (create_time, id) > (",
                         db::TimeParam(4), ", $5::uuid)) ORDER BY create_time, id LIMIT ", kPage),
            {tenant, recipient, absl::StrCat(absl::ToInt64Microseconds(window)), after_micros,
             after_id},
            deadline));
    for (int i = 0; i < r.rows(); ++i) out.push_back(NotificationFromRow(r, i));
    if (r.rows() < kPage) return out;
    after_micros = absl::StrCat(r.Int(r.rows() - 1, 7));
    after_id = r.String(r.rows() - 1, 0);
  }
}

absl::StatusOr<v1::Webhook> NotificationStore::CreateWebhook(const std::string& tenant,
                                                             const v1::Webhook& webhook,
                                                             absl::Time deadline) {
  v1::Webhook created = webhook;
  const std::string id = ids::NewUuidV7();
  created.set_name(absl::StrCat("webhooks/", id));
  created.set_secret(NewWebhookSecret());
  const absl::Time now = db::NowMicros();
  db::SetTime(created.mutable_create_time(), now);
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // Each fired reminder writes a delivery per webhook in its transaction: keep that bounded.
  tx.Queue("SELECT pg_advisory_xact_lock(hashtext('tasks.webhooks:' || $1))", {tenant});
  ASSIGN_OR_RETURN(Result live, tx.Exec("SELECT count(*) FROM tasks.webhooks WHERE tenant_id = "
                                        "$1 AND delete_time IS NULL",
                                        {tenant}));
  if (live.Int(0, 0) >= kMaxWebhooksPerTenant) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a tenant has at most ", kMaxWebhooksPerTenant, " webhooks; delete one first"));
  }
  tx.Queue(
      absl::StrCat("INSERT INTO tasks.webhooks (tenant_id, id, url, description, secret, "
                   "create_time) VALUES ($1, $2, $3, $4, $5, ",
                   db::TimeParam(6), ")"),
      {tenant, id, created.url(), created.description(), created.secret(), db::MicrosParam(now)});
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<std::vector<v1::Webhook>> NotificationStore::ListWebhooks(const std::string& tenant,
                                                                         int64_t offset, int limit,
                                                                         absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("SELECT id, url, description, ", db::MicrosOf("create_time"),
                               " FROM tasks.webhooks WHERE tenant_id = $1 AND "
                               "delete_time IS NULL ORDER BY id LIMIT $2 OFFSET $3"),
                  {tenant, absl::StrCat(limit), absl::StrCat(offset)}, deadline));
  std::vector<v1::Webhook> out;
  for (int i = 0; i < r.rows(); ++i) {
    v1::Webhook& w = out.emplace_back();
    w.set_name(absl::StrCat("webhooks/", r.Text(i, 0)));
    w.set_url(r.String(i, 1));
    w.set_description(r.String(i, 2));
    db::SetTimestamp(w.mutable_create_time(), r.Int(i, 3));
  }
  return out;
}

absl::Status NotificationStore::DeleteWebhook(const std::string& tenant, const std::string& id,
                                              absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result r, tx.Exec("UPDATE tasks.webhooks SET delete_time = now() WHERE "
                                     "tenant_id = $1 AND id = $2::uuid AND delete_time IS NULL "
                                     "RETURNING id",
                                     {tenant, id}));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("webhooks/", id, " not found"));
  tx.Queue(
      "UPDATE tasks.webhook_deliveries SET state = 'failed' WHERE tenant_id = $1 AND "
      "webhook_id = $2::uuid AND state = 'pending'",
      {tenant, id});
  return tx.Commit();
}

absl::StatusOr<Page<v1::WebhookDelivery>> NotificationStore::ListDeliveries(
    const std::string& tenant, const std::string& webhook_id, const std::string& before_id,
    int page_size, absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result hook, tx.Exec("SELECT 1 FROM tasks.webhooks WHERE tenant_id = $1 AND "
                                        "id = $2::uuid",
                                        {tenant, webhook_id}));
  if (hook.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("webhooks/", webhook_id, " not found"));
  }
  ASSIGN_OR_RETURN(
      Result d,
      tx.Exec(absl::StrCat("SELECT id, notification_id, state, ", db::MicrosOf("next_attempt_time"),
                           " FROM tasks.webhook_deliveries WHERE tenant_id = $1 AND webhook_id = "
                           "$2::uuid AND ($3::uuid IS NULL OR create_time < (SELECT create_time "
                           "FROM tasks.webhook_deliveries WHERE tenant_id = $1 AND id = $3::uuid) "
                           "OR (create_time = (SELECT create_time FROM tasks.webhook_deliveries "
                           "WHERE tenant_id = $1 AND id = $3::uuid) AND id < $3::uuid)) "
                           "ORDER BY create_time DESC, id DESC LIMIT $4"),
              {tenant, webhook_id, before_id.empty() ? Param() : Param(before_id),
               absl::StrCat(page_size + 1)}));
  Page<v1::WebhookDelivery> page;
  page.more = d.rows() > page_size;
  std::map<std::string, v1::WebhookDelivery*> by_id;
  std::vector<std::string> ids;
  for (int i = 0; i < std::min(d.rows(), page_size); ++i) {
    v1::WebhookDelivery& delivery = page.items.emplace_back();
    delivery.set_name(absl::StrCat("webhooks/", webhook_id, "/deliveries/", d.Text(i, 0)));
    delivery.set_notification(absl::StrCat("notifications/", d.Text(i, 1)));
    delivery.set_state(StateFromText(d.Text(i, 2)));
    if (delivery.state() == v1::DELIVERY_STATE_PENDING) {
      db::SetTimestamp(delivery.mutable_next_attempt_time(), d.Int(i, 3));
    }
    ids.push_back(d.String(i, 0));
  }
  for (size_t i = 0; i < ids.size(); ++i) by_id[ids[i]] = &page.items[i];
  ASSIGN_OR_RETURN(
      Result a,
      tx.Exec(absl::StrCat("SELECT delivery_id, ", db::MicrosOf("attempt_time"),
                           ", http_status, error, duration_ms FROM tasks.webhook_attempts WHERE "
                           "tenant_id = $1 AND delivery_id = ANY($2::uuid[]) ORDER BY "
                           "delivery_id, attempt"),
              {tenant, db::ToArrayLiteral(ids)}));
  for (int i = 0; i < a.rows(); ++i) {
    auto it = by_id.find(a.String(i, 0));
    if (it == by_id.end()) continue;
    v1::DeliveryAttempt* attempt = it->second->add_attempts();
    db::SetTimestamp(attempt->mutable_attempt_time(), a.Int(i, 1));
    attempt->set_http_status(static_cast<int32_t>(a.Int(i, 2)));
    attempt->set_error(a.String(i, 3));
    attempt->set_duration_ms(a.Int(i, 4));
  }
  RETURN_IF_ERROR(tx.Commit());
  return page;
}

}  // namespace crm::tasks
