#include "services/tasks/task_store.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/events/record_changes.h"
#include "common/fields/values_json.h"
#include "common/ids/uuid.h"
#include "crm/tasks/v1/tasks_events.pb.h"
#include "services/tasks/task_rules.h"

namespace crm::tasks {
namespace {

using db::MicrosParam;
using db::Param;
using db::Params;
using db::Result;
using db::Transaction;
using events::Draft;
using google::protobuf::util::TimeUtil;

// A task with the names of its contact and company (the company named on the task, else the
// contact's), and whether its reminder is armed (reminder_pending).
const std::string& TaskSelect() {
  static const auto* sql = new std::string(absl::StrCat(
      "SELECT t.id, t.title, t.description, t.assignee, t.creator, t.contact_id, "
      "coalesce(cn.display_name, ''), coalesce(co.display_name, cco.display_name, ''), "
      "t.company_id, t.deal_id, t.priority, t.status, ",
      db::MicrosOf("t.due_time"), ", ", db::MicrosOf("t.reminder_time"), ", t.time_zone, ",
      db::MicrosOf("t.reminder_fire_time"), ", ", db::MicrosOf("t.complete_time"),
      ", t.origin, t.version, ", db::MicrosOf("t.create_time"), ", ", db::MicrosOf("t.update_time"),
      ", t.reminder_pending, t.custom_fields FROM tasks.tasks t "
      "LEFT JOIN tasks.contact_names cn ON cn.tenant_id = t.tenant_id AND "
      "cn.contact_id = t.contact_id "
      "LEFT JOIN tasks.company_names co ON co.tenant_id = t.tenant_id AND "
      "co.company_id = t.company_id "
      "LEFT JOIN tasks.company_names cco ON cco.tenant_id = t.tenant_id AND "
      "cco.company_id = cn.company_id "));
  return *sql;
}

void SetOptionalTime(google::protobuf::Timestamp* (v1::Task::*field)(), v1::Task& task,
                     const Result& r, int row, int col) {
  if (!r.IsNull(row, col)) db::SetTimestamp((task.*field)(), r.Int(row, col));
}

v1::Task TaskFromRow(const Result& r, int row) {
  v1::Task t;
  t.set_name(absl::StrCat(kTaskPrefix, r.Text(row, 0)));
  t.set_title(r.String(row, 1));
  t.set_description(r.String(row, 2));
  t.set_assignee(r.String(row, 3));
  t.set_creator(r.String(row, 4));
  if (!r.IsNull(row, 5)) t.set_contact(absl::StrCat("contacts/", r.Text(row, 5)));
  t.set_contact_display_name(r.String(row, 6));
  t.set_company_display_name(r.String(row, 7));
  if (!r.IsNull(row, 8)) t.set_company(absl::StrCat("companies/", r.Text(row, 8)));
  if (!r.IsNull(row, 9)) t.set_deal(absl::StrCat("deals/", r.Text(row, 9)));
  t.set_priority(PriorityFromText(r.Text(row, 10)));
  t.set_status(StatusFromText(r.Text(row, 11)));
  SetOptionalTime(&v1::Task::mutable_due_time, t, r, row, 12);
  SetOptionalTime(&v1::Task::mutable_reminder_time, t, r, row, 13);
  t.set_time_zone(r.String(row, 14));
  SetOptionalTime(&v1::Task::mutable_reminder_fire_time, t, r, row, 15);
  SetOptionalTime(&v1::Task::mutable_complete_time, t, r, row, 16);
  t.set_origin(r.String(row, 17));
  t.set_etag(r.String(row, 18));
  db::SetTimestamp(t.mutable_create_time(), r.Int(row, 19));
  db::SetTimestamp(t.mutable_update_time(), r.Int(row, 20));
  // (21 is reminder_pending.) A value the API cannot read back is dropped rather than failing.
  (void)fields::ValuesFromJson(r.Text(row, 22), t.mutable_custom_fields());
  return t;
}

Param OptionalId(const std::string& name, absl::string_view prefix) {
  if (name.empty()) return std::nullopt;
  return name.substr(prefix.size());
}

Param OptionalMicros(bool has, const google::protobuf::Timestamp& ts) {
  if (!has) return std::nullopt;
  return absl::StrCat(TimeUtil::TimestampToMicroseconds(ts));
}

struct LoadedTask {
  v1::Task task;
  bool armed = false;
};

absl::StatusOr<LoadedTask> Load(Transaction& tx, const std::string& tenant, const std::string& id,
                                bool lock) {
  ASSIGN_OR_RETURN(Result rows,
                   tx.Exec(absl::StrCat(TaskSelect(),
                                        "WHERE t.tenant_id = $1 AND t.id = $2::uuid AND "
                                        "t.delete_time IS NULL",
                                        lock ? " FOR UPDATE OF t" : ""),
                           {tenant, id}));
  if (rows.rows() == 0) return absl::NotFoundError(absl::StrCat("tasks/", id, " not found"));
  return LoadedTask{TaskFromRow(rows, 0), rows.Bool(0, rows.ColumnIndex("reminder_pending"))};
}

// The parameters $3.. of a task's columns as written by INSERT and UPDATE below.
Params TaskColumns(const v1::Task& t, bool armed, absl::Time now) {
  const bool done = t.status() == v1::TASK_STATUS_DONE;
  Param complete = std::nullopt;
  if (done)
    complete = t.has_complete_time() ? *OptionalMicros(true, t.complete_time()) : MicrosParam(now);
  return {t.title(),
          t.description(),
          t.assignee(),
          OptionalId(t.contact(), "contacts/"),
          OptionalId(t.company(), "companies/"),
          OptionalId(t.deal(), "deals/"),
          PriorityToText(t.priority()),
          StatusToText(t.status()),
          OptionalMicros(t.has_due_time(), t.due_time()),
          OptionalMicros(t.has_reminder_time(), t.reminder_time()),
          armed ? "true" : "false",
          t.time_zone(),
          complete,
          MicrosParam(now)};
}

constexpr char kInsertColumns[] =
    "INSERT INTO tasks.tasks (tenant_id, id, title, description, assignee, contact_id, "
    "company_id, deal_id, priority, status, due_time, reminder_time, reminder_pending, time_zone, "
    "complete_time, create_time, update_time, creator, origin, origin_key, create_request_id, "
    "custom_fields) ";

std::string InsertValues() {
  return absl::StrCat("VALUES ($1, $2, $3, $4, $5, $6::uuid, $7::uuid, $8::uuid, $9, $10, ",
                      db::TimeParam(11), ", ", db::TimeParam(12), ", $13, $14, ", db::TimeParam(15),
                      ", ", db::TimeParam(16), ", ", db::TimeParam(16),
                      ", $17, $18, $19, $20, $21::jsonb) ");
}

}  // namespace

void TaskStore::Armed(Transaction& tx, const v1::Task& task, bool armed) {
  if (!armed || !reminder_armed_) return;
  const absl::Time at =
      absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(task.reminder_time()));
  tx.OnCommit([this, at] { reminder_armed_(at); });
}

absl::StatusOr<v1::Task> TaskStore::CreateTask(const std::string& tenant, const v1::Task& task,
                                               const std::string& actor,
                                               const std::string& request_id, absl::Time deadline,
                                               const fields::WriteGuard& guard) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = db::NowMicros();
  const bool armed = IsActive(task.status()) && task.has_reminder_time();
  Params params = {tenant, id};
  for (Param& p : TaskColumns(task, armed, now)) params.push_back(std::move(p));
  params.push_back(actor);
  params.push_back(std::string());
  params.push_back(std::nullopt);
  params.push_back(request_id.empty() ? Param() : Param(request_id));
  params.push_back(fields::ValuesToJson(task.custom_fields()));
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result inserted,
                   tx.Exec(absl::StrCat(kInsertColumns, InsertValues(),
                                        "ON CONFLICT (tenant_id, creator, create_request_id) "
                                        "WHERE create_request_id IS NOT NULL DO NOTHING "
                                        "RETURNING id"),
                           params));
  if (inserted.rows() == 0) {  // a retry: the first task with this request_id
    ASSIGN_OR_RETURN(Result first, tx.Exec("SELECT id FROM tasks.tasks WHERE tenant_id = $1 AND "
                                           "creator = $2 AND create_request_id = $3",
                                           {tenant, actor, request_id}));
    if (first.rows() == 0) {  // deleted between the two statements
      return absl::AbortedError("the task with this request_id changed meanwhile; retry");
    }
    ASSIGN_OR_RETURN(LoadedTask existing, Load(tx, tenant, first.String(0, 0), false));
    RETURN_IF_ERROR(tx.Commit());
    return existing.task;
  }
  ASSIGN_OR_RETURN(LoadedTask created, Load(tx, tenant, id, false));
  if (guard) guard(tx, created.task.name(), created.task.custom_fields());
  v1::TaskCreated event;
  *event.mutable_task() = created.task;
  outbox_.Append(tx, tenant, Draft<v1::Task>(created.task.name(), actor, now, event));
  Armed(tx, created.task, armed);
  RETURN_IF_ERROR(tx.Commit());
  return created.task;
}

absl::StatusOr<bool> TaskStore::CreateTaskFromEvent(Transaction& tx, const std::string& tenant,
                                                    const v1::Task& task,
                                                    const std::string& origin_key) {
  const std::string id = ids::NewUuidV7();
  const absl::Time now = db::NowMicros();
  const bool armed = IsActive(task.status()) && task.has_reminder_time();
  Params params = {tenant, id};
  for (Param& p : TaskColumns(task, armed, now)) params.push_back(std::move(p));
  params.push_back(std::string());
  params.push_back(task.origin());
  params.push_back(origin_key);
  params.push_back(std::nullopt);
  params.push_back(fields::ValuesToJson(task.custom_fields()));
  ASSIGN_OR_RETURN(Result inserted,
                   tx.Exec(absl::StrCat(kInsertColumns, InsertValues(),
                                        "ON CONFLICT (tenant_id, origin_key) WHERE origin_key IS "
                                        "NOT NULL DO NOTHING RETURNING id"),
                           params));
  if (inserted.rows() == 0) return false;
  ASSIGN_OR_RETURN(LoadedTask created, Load(tx, tenant, id, false));
  v1::TaskCreated event;
  *event.mutable_task() = created.task;
  outbox_.Append(tx, tenant, Draft<v1::Task>(created.task.name(), "", now, event));
  Armed(tx, created.task, armed);
  return true;
}

absl::StatusOr<v1::Task> TaskStore::GetTask(const std::string& tenant, const std::string& id,
                                            absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(LoadedTask loaded, Load(tx, tenant, id, false));
  RETURN_IF_ERROR(tx.Commit());
  return loaded.task;
}

absl::StatusOr<TaskPage> TaskStore::ListTasks(const std::string& tenant,
                                              const std::string& after_id, int64_t offset,
                                              int page_size, const api::SqlFilter& filter,
                                              const std::string& order_sql, absl::Time deadline) {
  Params params = {tenant, after_id.empty() ? Param() : Param(after_id),
                   absl::StrCat(page_size + 1)};
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  ASSIGN_OR_RETURN(Result r,
                   db::RunOnce(pool_, tenant,
                               absl::StrCat(TaskSelect(),
                                            "WHERE t.tenant_id = $1 AND t.delete_time IS NULL AND "
                                            "($2::uuid IS NULL OR t.id > $2::uuid)",
                                            filter.where.empty() ? "" : " AND ", filter.where,
                                            " ORDER BY ", order_sql, " LIMIT $3 OFFSET ", offset),
                               params, deadline));
  TaskPage page;
  page.more = r.rows() > page_size;
  for (int i = 0; i < std::min(r.rows(), page_size); ++i) page.items.push_back(TaskFromRow(r, i));
  return page;
}

absl::StatusOr<v1::Task> TaskStore::UpdateTask(const std::string& tenant, const std::string& id,
                                               const std::string& actor, const TaskMutation& mutate,
                                               absl::Time deadline,
                                               const fields::WriteGuard& guard) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(LoadedTask current, Load(tx, tenant, id, true));
  ASSIGN_OR_RETURN(auto change, mutate(current.task));
  auto& [next, changed] = change;
  if (changed.empty()) {  // nothing to write, nothing to announce
    RETURN_IF_ERROR(tx.Commit());
    return current.task;
  }
  const absl::Time now = db::NowMicros();
  const bool armed = ReminderArmed(current.task, current.armed, next, now);
  const bool reminder_moved =
      std::find(changed.begin(), changed.end(), "reminder_time") != changed.end();
  if (next.status() != v1::TASK_STATUS_DONE) next.clear_complete_time();
  Params params = {tenant, id};
  for (Param& p : TaskColumns(next, armed, now)) params.push_back(std::move(p));
  params.push_back(reminder_moved ? "true" : "false");
  params.push_back(fields::ValuesToJson(next.custom_fields()));
  tx.Queue(absl::StrCat("UPDATE tasks.tasks SET title = $3, description = $4, assignee = $5, "
                        "contact_id = $6::uuid, company_id = $7::uuid, deal_id = $8::uuid, "
                        "priority = $9, status = $10, due_time = ",
                        db::TimeParam(11), ", reminder_time = ", db::TimeParam(12),
                        ", reminder_pending = $13, time_zone = $14, complete_time = ",
                        db::TimeParam(15), ", update_time = ", db::TimeParam(16),
                        ", reminder_fire_time = CASE WHEN $17 THEN NULL ELSE reminder_fire_time "
                        "END, custom_fields = $18::jsonb, version = version + 1 "
                        "WHERE tenant_id = $1 AND id = $2::uuid"),
           params);
  ASSIGN_OR_RETURN(LoadedTask updated, Load(tx, tenant, id, false));
  if (guard) guard(tx, updated.task.name(), updated.task.custom_fields());
  v1::TaskUpdated event;
  *event.mutable_task() = updated.task;
  // What was written may differ from what the mask named (completing sets complete_time).
  const std::vector<std::string> paths = events::ChangedPaths(current.task, updated.task);
  for (const std::string& path : paths) event.add_changed_fields(path);
  events::CopyPrevious(current.task, paths, event.mutable_previous());
  outbox_.Append(tx, tenant, Draft<v1::Task>(updated.task.name(), actor, now, event));
  Armed(tx, updated.task, armed);
  RETURN_IF_ERROR(tx.Commit());
  return updated.task;
}

absl::Status TaskStore::DeleteTask(const std::string& tenant, const std::string& id,
                                   const std::string& actor,
                                   const std::function<absl::Status(const v1::Task&)>& check,
                                   absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(LoadedTask current, Load(tx, tenant, id, true));
  RETURN_IF_ERROR(check(current.task));
  const absl::Time now = db::NowMicros();
  tx.Queue(absl::StrCat("UPDATE tasks.tasks SET delete_time = ", db::TimeParam(3),
                        ", reminder_pending = false, create_request_id = NULL, version = version "
                        "+ 1 WHERE tenant_id = $1 AND id = $2::uuid"),
           {tenant, id, MicrosParam(now)});
  unique_.QueueRelease(tx, common::v1::OBJECT_TYPE_TASK, current.task.name());
  v1::TaskDeleted event;
  event.set_name(current.task.name());
  *event.mutable_task() = current.task;
  outbox_.Append(tx, tenant, Draft<v1::Task>(current.task.name(), actor, now, event));
  return tx.Commit();
}

void TaskStore::QueueContactName(Transaction& tx, const std::string& tenant,
                                 const std::string& contact_id, const std::string& display_name,
                                 const std::string& company_id) {
  tx.Queue(
      "INSERT INTO tasks.contact_names (tenant_id, contact_id, display_name, company_id) "
      "VALUES ($1, $2::uuid, $3, $4::uuid) ON CONFLICT (tenant_id, contact_id) DO UPDATE SET "
      "display_name = EXCLUDED.display_name, company_id = EXCLUDED.company_id",
      {tenant, contact_id, display_name, company_id.empty() ? Param() : Param(company_id)});
}

void TaskStore::QueueCompanyName(Transaction& tx, const std::string& tenant,
                                 const std::string& company_id, const std::string& display_name) {
  tx.Queue(
      "INSERT INTO tasks.company_names (tenant_id, company_id, display_name) VALUES ($1, "
      "$2::uuid, $3) ON CONFLICT (tenant_id, company_id) DO UPDATE SET display_name = "
      "EXCLUDED.display_name",
      {tenant, company_id, display_name});
}

absl::Status TaskStore::RepointContact(Transaction& tx, const std::string& tenant,
                                       const std::string& loser_id, const std::string& winner_id) {
  ASSIGN_OR_RETURN(Result moved,
                   tx.Exec("UPDATE tasks.tasks SET contact_id = $3::uuid, version = version + 1, "
                           "update_time = now() WHERE tenant_id = $1 AND contact_id = $2::uuid "
                           "RETURNING id",
                           {tenant, loser_id, winner_id}));
  const absl::Time now = db::NowMicros();
  for (int i = 0; i < moved.rows(); ++i) {
    ASSIGN_OR_RETURN(LoadedTask task, Load(tx, tenant, moved.String(i, 0), false));
    v1::TaskUpdated event;
    *event.mutable_task() = task.task;
    event.add_changed_fields("contact");
    outbox_.Append(tx, tenant, Draft<v1::Task>(task.task.name(), "", now, event));
  }
  return absl::OkStatus();
}

}  // namespace crm::tasks
