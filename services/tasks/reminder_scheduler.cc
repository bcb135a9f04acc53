#include "services/tasks/reminder_scheduler.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/ids/uuid.h"
#include "common/log/log.h"
#include "crm/tasks/v1/tasks_events.pb.h"
#include "services/tasks/notification_json.h"

namespace crm::tasks {
namespace {

using db::Result;

// Claims due reminders (skipping those another replica holds), disarms them, and returns what
// a notification needs: tenant, task id, assignee, title, reminder time, due time, contact and
// company names.
const std::string& FireSql() {
  static const auto* sql = new std::string(absl::StrCat(
      "WITH due AS (SELECT tenant_id, id FROM tasks.tasks WHERE reminder_pending AND "
      "reminder_time <= now() ORDER BY reminder_time LIMIT $1 FOR UPDATE SKIP LOCKED), "
      "fired AS (UPDATE tasks.tasks t SET reminder_pending = false, reminder_fire_time = now() "
      "FROM due WHERE t.tenant_id = due.tenant_id AND t.id = due.id RETURNING t.tenant_id, t.id, "
      "t.assignee, t.title, t.reminder_time, t.due_time, t.contact_id, t.company_id) "
      "SELECT f.tenant_id, f.id, f.assignee, f.title, ",
      db::MicrosOf("f.reminder_time"), ", ", db::MicrosOf("f.due_time"),
      ", coalesce(cn.display_name, ''), coalesce(co.display_name, cco.display_name, '') "
      "FROM fired f "
      "LEFT JOIN tasks.contact_names cn ON cn.tenant_id = f.tenant_id AND "
      "cn.contact_id = f.contact_id "
      "LEFT JOIN tasks.company_names co ON co.tenant_id = f.tenant_id AND "
      "co.company_id = f.company_id "
      "LEFT JOIN tasks.company_names cco ON cco.tenant_id = f.tenant_id AND "
      "cco.company_id = cn.company_id ORDER BY f.reminder_time"));
  return *sql;
}

// "call Anna Petrosyan, Acme" from the task title and the names it points at.
std::string Body(const std::string& title, const std::string& contact, const std::string& company) {
  std::string body = title;
  if (!contact.empty()) absl::StrAppend(&body, " (", contact);
  if (!company.empty()) absl::StrAppend(&body, contact.empty() ? " (" : ", ", company);
  if (!contact.empty() || !company.empty()) absl::StrAppend(&body, ")");
  return body;
}

}  // namespace

ReminderScheduler::ReminderScheduler(db::Pool& pool, events::Outbox& outbox,
                                     events::Notifier* notifications,
                                     std::function<void()> deliveries_queued,
                                     prometheus::Registry* registry,
                                     ReminderSchedulerOptions options)
    : pool_(pool),
      outbox_(outbox),
      notifications_(notifications),
      deliveries_queued_(std::move(deliveries_queued)),
      options_(options) {
  if (registry != nullptr) {
    delay_ = &prometheus::BuildHistogram()
                  .Name("crm_reminder_delay_seconds")
                  .Help("Time from a reminder's due moment to its notification's commit")
                  .Register(*registry)
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1,
                                                                   0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                                                   300, 3600});
    fired_ = &prometheus::BuildCounter()
                  .Name("crm_reminders_fired_total")
                  .Help("Reminders fired, by whether they fired late (after a minute)")
                  .Register(*registry);
  }
}

ReminderScheduler::~ReminderScheduler() { Stop(); }

void ReminderScheduler::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ReminderScheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    wake_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
}

void ReminderScheduler::WakeAt(absl::Time at) {
  absl::MutexLock lock(&mu_);
  if (at < planned_wake_) {
    planned_wake_ = at;
    wake_.Signal();
  }
}

void ReminderScheduler::Run() {
  for (;;) {
    // Plan the next wake-up before firing, so a reminder armed while firing is not missed.
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      planned_wake_ = absl::Now() + options_.max_sleep;
    }
    absl::StatusOr<int> fired = FireDue();
    if (!fired.ok()) spdlog::warn("reminder scheduler: {}", fired.status().ToString());
    absl::StatusOr<absl::Time> next = NextDue();
    if (!next.ok()) spdlog::warn("reminder scheduler: {}", next.status().ToString());
    absl::MutexLock lock(&mu_);
    if (next.ok() && *next < planned_wake_) {
      // A reminder that is due but was not ours to fire is another replica's batch in flight
      // (or a failing one): look again shortly rather than at once, so replicas do not spin.
      const absl::Time now = absl::Now();
      planned_wake_ = *next <= now ? now + options_.retry_pause : *next;
    }
    if (!fired.ok()) planned_wake_ = std::max(planned_wake_, absl::Now() + options_.retry_pause);
    while (!stopping_ && absl::Now() < planned_wake_) {
      wake_.WaitWithDeadline(&mu_, planned_wake_);
    }
    if (stopping_) return;
  }
}

absl::StatusOr<absl::Time> ReminderScheduler::NextDue() {
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(10)));
  ASSIGN_OR_RETURN(Result r, tx.Exec(absl::StrCat("SELECT ", db::MicrosOf("min(reminder_time)"),
                                                  " FROM tasks.tasks WHERE reminder_pending")));
  RETURN_IF_ERROR(tx.Commit());
  if (r.IsNull(0, 0)) return absl::InfiniteFuture();
  return absl::FromUnixMicros(r.Int(0, 0));
}

absl::StatusOr<int> ReminderScheduler::FireDue() {
  int total = 0;
  for (;;) {
    ASSIGN_OR_RETURN(int fired, FireBatch());
    total += fired;
    if (fired < options_.batch_size) return total;
  }
}

absl::StatusOr<int> ReminderScheduler::FireBatch() {
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(10)));
  ASSIGN_OR_RETURN(Result due, tx.Exec(FireSql(), {absl::StrCat(options_.batch_size)}));
  if (due.rows() == 0) {
    RETURN_IF_ERROR(tx.Commit());
    return 0;
  }
  const absl::Time now = db::NowMicros();
  std::vector<absl::Time> due_times;
  int late = 0;
  for (int i = 0; i < due.rows(); ++i) {
    const std::string tenant = due.String(i, 0);
    const absl::Time reminder_time = due.TimeFromMicros(i, 4);
    v1::Notification n;
    const std::string id = ids::NewUuidV7();
    n.set_name(absl::StrCat("notifications/", id));
    n.set_recipient(due.String(i, 2));
    n.set_task(absl::StrCat("tasks/", due.Text(i, 1)));
    n.set_title(absl::StrCat("Reminder: ", due.Text(i, 3)));
    n.set_body(Body(due.String(i, 3), due.String(i, 6), due.String(i, 7)));
    db::SetTime(n.mutable_due_time(), due.IsNull(i, 5) ? reminder_time : due.TimeFromMicros(i, 5));
    db::SetTime(n.mutable_create_time(), now);
    n.set_late(now - reminder_time > options_.late_after);
    if (n.late()) ++late;
    tx.Queue(absl::StrCat("INSERT INTO tasks.notifications (tenant_id, id, recipient, task_id, "
                          "title, body, due_time, late, create_time) VALUES ($1, $2, $3, "
                          "$4::uuid, $5, $6, ",
                          db::TimeParam(7), ", $8, ", db::TimeParam(9), ")"),
             {tenant, id, n.recipient(), due.String(i, 1), n.title(), n.body(),
              db::MicrosParam(due.IsNull(i, 5) ? reminder_time : due.TimeFromMicros(i, 5)),
              n.late() ? "true" : "false", db::MicrosParam(now)});
    // One delivery per live webhook of the tenant; the dispatcher POSTs them.
    tx.Queue(
        "INSERT INTO tasks.webhook_deliveries (tenant_id, id, webhook_id, notification_id, body) "
        "SELECT w.tenant_id, gen_random_uuid(), w.id, $2::uuid, $3 FROM tasks.webhooks w "
        "WHERE w.tenant_id = $1 AND w.delete_time IS NULL",
        {tenant, id, NotificationWebhookBody(tenant, n)});
    v1::ReminderFired event;
    *event.mutable_notification() = n;
    outbox_.Append(tx, tenant, events::Draft<v1::Task>(n.task(), "", now, event));
    due_times.push_back(reminder_time);
  }
  RETURN_IF_ERROR(tx.Commit());
  const absl::Time committed = absl::Now();
  for (absl::Time t : due_times) {
    if (delay_ != nullptr) delay_->Observe(absl::ToDoubleSeconds(committed - t));
  }
  if (fired_ != nullptr) {
    fired_->Add({{"late", "false"}}).Increment(static_cast<double>(due.rows() - late));
    if (late > 0) fired_->Add({{"late", "true"}}).Increment(late);
  }
  if (late > 0)
    spdlog::warn("fired {} reminders late (their time passed while no replica ran)", late);
  if (notifications_ != nullptr) notifications_->Announce();
  if (deliveries_queued_) deliveries_queued_();
  return due.rows();
}

}  // namespace crm::tasks
