#include "services/reporting/schedules.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/ids/uuid.h"
#include "common/log/log.h"
#include "crm/reporting/v1/reporting_events.pb.h"
#include "services/reporting/periods.h"

namespace crm::reporting {
namespace {

constexpr int kMaxSchedulesPerTenant = 100;

using db::Result;

// When the period containing `day` ends, as an instant in `zone`.
absl::Time EndOfPeriod(v1::PeriodKind kind, absl::CivilDay day, int fiscal_start,
                       const absl::TimeZone& zone) {
  v1::ReportSpec spec;
  spec.set_period(kind);
  spec.set_anchor_date(DayText(day));
  absl::StatusOr<Period> period = ResolvePeriod(spec, day, fiscal_start);
  return absl::FromCivil(period.ok() ? period->to : day + 1, zone);
}

v1::ReportSchedule ScheduleFromRow(const Result& r, int i) {
  v1::ReportSchedule s;
  s.set_name(absl::StrCat("reportSchedules/", r.Text(i, 0)));
  s.set_display_name(r.String(i, 1));
  (void)s.mutable_spec()->ParseFromString(absl::HexStringToBytes(r.Text(i, 2)));
  db::SetTimestamp(s.mutable_next_run_time(), r.Int(i, 3));
  db::SetTimestamp(s.mutable_create_time(), r.Int(i, 4));
  return s;
}

}  // namespace

absl::StatusOr<v1::ReportSchedule> ScheduleStore::Create(const std::string& tenant,
                                                         const v1::ReportSchedule& schedule,
                                                         absl::Time now, absl::Time deadline) {
  ASSIGN_OR_RETURN(ReportEngine::Calendar calendar, engine_.CalendarOf(tenant, deadline));
  absl::TimeZone zone;
  (void)absl::LoadTimeZone(calendar.time_zone, &zone);
  const absl::CivilDay today = absl::ToCivilDay(now, zone);
  RETURN_IF_ERROR(
      PreviousPeriod(schedule.spec().period(), today, calendar.fiscal_year_start_month).status());
  // The spec must run: check it once now, so a bad one is refused rather than failing later.
  RETURN_IF_ERROR(engine_.Run(tenant, schedule.spec(), now, deadline).status());
  if (schedule.display_name().size() > 200) {
    return api::InvalidField("schedule.display_name", "up to 200 characters");
  }
  v1::ReportSchedule created = schedule;
  const std::string id = ids::NewUuidV7();
  created.set_name(absl::StrCat("reportSchedules/", id));
  if (created.display_name().empty()) created.set_display_name(ReportTitle(schedule.spec().kind()));
  const absl::Time next =
      EndOfPeriod(schedule.spec().period(), today, calendar.fiscal_year_start_month, zone);
  db::SetTime(created.mutable_next_run_time(), next);
  db::SetTime(created.mutable_create_time(), db::NowMicros());
  ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(pool_, tenant, deadline));
  // Every schedule runs a report each period: a tenant's number of them is bounded (counted
  // under a per-tenant lock, so concurrent creates cannot pass the bound together).
  tx.Queue("SELECT pg_advisory_xact_lock(hashtext('reporting.schedules:' || $1))", {tenant});
  ASSIGN_OR_RETURN(db::Result live, tx.Exec("SELECT count(*) FROM reporting.report_schedules "
                                            "WHERE tenant_id = $1 AND delete_time IS NULL",
                                            {tenant}));
  if (live.Int(0, 0) >= kMaxSchedulesPerTenant) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a tenant has at most ", kMaxSchedulesPerTenant, " report schedules; delete one first"));
  }
  tx.Queue(absl::StrCat("INSERT INTO reporting.report_schedules (tenant_id, id, "
                        "display_name, spec, next_run_time, create_time) "
                        "VALUES ($1, $2, $3, decode($4, 'hex'), ",
                        db::TimeParam(5), ", ", db::TimeParam(6), ")"),
           {tenant, id, created.display_name(),
            absl::BytesToHexString(created.spec().SerializeAsString()), db::MicrosParam(next),
            absl::StrCat(absl::ToUnixMicros(db::NowMicros()))});
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<std::vector<v1::ReportSchedule>> ScheduleStore::List(const std::string& tenant,
                                                                    int64_t offset, int limit,
                                                                    absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("SELECT id, display_name, encode(spec, 'hex'), ",
                               db::MicrosOf("next_run_time"), ", ", db::MicrosOf("create_time"),
                               " FROM reporting.report_schedules WHERE tenant_id = $1 AND "
                               "delete_time IS NULL ORDER BY id LIMIT $2 OFFSET $3"),
                  {tenant, absl::StrCat(limit), absl::StrCat(offset)}, deadline));
  std::vector<v1::ReportSchedule> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ScheduleFromRow(r, i));
  return out;
}

absl::Status ScheduleStore::Delete(const std::string& tenant, const std::string& id,
                                   absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, db::RunOnce(pool_, tenant,
                                         "UPDATE reporting.report_schedules SET delete_time = "
                                         "now() WHERE tenant_id = $1 AND id = $2::uuid AND "
                                         "delete_time IS NULL RETURNING id",
                                         {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("reportSchedules/", id, " not found"));
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::vector<v1::ReportRun>, bool>> ScheduleStore::ListRuns(
    const std::string& tenant, const std::string& schedule_id, const std::string& before_id,
    int page_size, absl::Time deadline) {
  ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result exists, tx.Exec("SELECT 1 FROM reporting.report_schedules WHERE "
                                          "tenant_id = $1 AND id = $2::uuid",
                                          {tenant, schedule_id}));
  if (exists.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("reportSchedules/", schedule_id, " not found"));
  }
  ASSIGN_OR_RETURN(
      Result r,
      tx.Exec(absl::StrCat("SELECT id, period_from::text, encode(report, 'hex'), ",
                           db::MicrosOf("run_time"),
                           " FROM reporting.report_runs WHERE tenant_id = $1 AND schedule_id = "
                           "$2::uuid AND ($3::uuid IS NULL OR id < $3::uuid) ORDER BY id DESC "
                           "LIMIT $4"),
              {tenant, schedule_id, before_id.empty() ? db::Param() : db::Param(before_id),
               absl::StrCat(page_size + 1)}));
  RETURN_IF_ERROR(tx.Commit());
  std::vector<v1::ReportRun> runs;
  for (int i = 0; i < std::min(r.rows(), page_size); ++i) {
    v1::ReportRun& run = runs.emplace_back();
    run.set_name(absl::StrCat("reportSchedules/", schedule_id, "/runs/", r.Text(i, 0)));
    run.set_period_from(r.String(i, 1));
    (void)run.mutable_report()->ParseFromString(absl::HexStringToBytes(r.Text(i, 2)));
    db::SetTimestamp(run.mutable_run_time(), r.Int(i, 3));
  }
  return std::make_pair(std::move(runs), r.rows() > page_size);
}

ReportScheduler::ReportScheduler(db::Pool& pool, ReportEngine& engine, events::Outbox& outbox,
                                 prometheus::Registry* registry, ReportSchedulerOptions options)
    : pool_(pool), engine_(engine), outbox_(outbox), options_(options) {
  if (registry != nullptr) {
    runs_ = &prometheus::BuildCounter()
                 .Name("crm_scheduled_reports_run_total")
                 .Help("Scheduled report runs stored")
                 .Register(*registry)
                 .Add({});
  }
}

ReportScheduler::~ReportScheduler() { Stop(); }

void ReportScheduler::Start() {
  thread_ = std::thread([this] {
    do {
      if (auto ran = RunDue(absl::Now()); !ran.ok()) {
        spdlog::warn("report scheduler: {}", ran.status().ToString());
      }
    } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
  });
}

void ReportScheduler::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> ReportScheduler::RunDue(absl::Time now) {
  int stored = 0;
  for (;;) {
    // One schedule per transaction: claimed, run, stored and advanced together.
    ASSIGN_OR_RETURN(db::Transaction tx,
                     db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(60)));
    ASSIGN_OR_RETURN(
        Result due,
        tx.Exec(absl::StrCat(
                    "SELECT tenant_id, id, encode(spec, 'hex'), ", db::MicrosOf("next_run_time"),
                    " FROM reporting.report_schedules WHERE delete_time IS NULL AND "
                    "next_run_time <= ",
                    db::TimeParam(1), " ORDER BY next_run_time LIMIT 1 FOR UPDATE SKIP LOCKED"),
                {db::MicrosParam(now)}));
    if (due.rows() == 0) {
      RETURN_IF_ERROR(tx.Commit());
      return stored;
    }
    const std::string tenant = due.String(0, 0);
    const std::string id = due.String(0, 1);
    v1::ReportSpec spec;
    (void)spec.ParseFromString(absl::HexStringToBytes(due.Text(0, 2)));
    const absl::Time due_at = absl::FromUnixMicros(due.Int(0, 3));
    ASSIGN_OR_RETURN(ReportEngine::Calendar calendar,
                     engine_.CalendarOf(tenant, absl::Now() + absl::Seconds(30)));
    absl::TimeZone zone;
    (void)absl::LoadTimeZone(calendar.time_zone, &zone);
    // The period that ended at the due time (the day before it, locally).
    const absl::CivilDay last_day = absl::ToCivilDay(due_at, zone) - 1;
    spec.set_anchor_date(DayText(last_day));
    absl::StatusOr<v1::Report> report =
        engine_.Run(tenant, spec, now, absl::Now() + absl::Seconds(30));
    // The end of the period that starts at the due time: a replica that was down for weeks
    // catches up one period per pass, none skipped.
    const absl::Time next = EndOfPeriod(spec.period(), absl::ToCivilDay(due_at, zone),
                                        calendar.fiscal_year_start_month, zone);
    if (!report.ok()) {
      if (report.status().code() != absl::StatusCode::kInvalidArgument) {
        // Transient (database, deadline): leave it due and try again on the next pass.
        tx.Abort();
        return report.status();
      }
      spdlog::warn("scheduled report {} cannot run, skipping its period: {}", id,
                   report.status().ToString());
      tx.Queue(absl::StrCat("UPDATE reporting.report_schedules SET next_run_time = ",
                            db::TimeParam(3), " WHERE tenant_id = $1 AND id = $2::uuid"),
               {tenant, id, db::MicrosParam(next)});
      RETURN_IF_ERROR(tx.Commit());
      continue;
    }
    v1::ReportRun run;
    const std::string run_id = ids::NewUuidV7();
    run.set_name(absl::StrCat("reportSchedules/", id, "/runs/", run_id));
    run.set_period_from(report->from_date());
    *run.mutable_report() = *report;
    db::SetTime(run.mutable_run_time(), db::NowMicros());
    ASSIGN_OR_RETURN(
        Result inserted,
        tx.Exec(absl::StrCat("INSERT INTO reporting.report_runs (tenant_id, id, schedule_id, "
                             "period_from, report, run_time) VALUES ($1, $2, $3::uuid, $4::date, "
                             "decode($5, 'hex'), ",
                             db::TimeParam(6),
                             ") ON CONFLICT (tenant_id, schedule_id, period_from) DO NOTHING "
                             "RETURNING id"),
                {tenant, run_id, id, report->from_date(),
                 absl::BytesToHexString(report->SerializeAsString()),
                 absl::StrCat(absl::ToUnixMicros(db::NowMicros()))}));
    tx.Queue(absl::StrCat("UPDATE reporting.report_schedules SET next_run_time = ",
                          db::TimeParam(3), " WHERE tenant_id = $1 AND id = $2::uuid"),
             {tenant, id, db::MicrosParam(next)});
    if (inserted.rows() > 0) {
      v1::ReportRunCompleted event;
      event.set_schedule(absl::StrCat("reportSchedules/", id));
      *event.mutable_run() = run;
      outbox_.Append(
          tx, tenant,
          events::Draft<v1::ReportSchedule>(event.schedule(), "", db::NowMicros(), event));
    }
    RETURN_IF_ERROR(tx.Commit());
    if (inserted.rows() > 0) {
      ++stored;
      if (runs_ != nullptr) runs_->Increment();
    }
  }
}

}  // namespace crm::reporting
