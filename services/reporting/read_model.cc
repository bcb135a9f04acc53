#include "services/reporting/read_model.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/fields/values_json.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "crm/tasks/v1/tasks_events.pb.h"

namespace crm::reporting {
namespace {

using db::Param;
using db::Transaction;
using google::protobuf::util::TimeUtil;
namespace cv1 = crm::contacts::v1;
namespace pv1 = crm::pipeline::v1;
namespace tv1 = crm::tasks::v1;

std::string IdOf(absl::string_view name) {
  const size_t slash = name.rfind('/');
  return std::string(slash == absl::string_view::npos ? name : name.substr(slash + 1));
}

Param OptionalId(absl::string_view name) {
  if (name.empty()) return std::nullopt;
  return IdOf(name);
}

Param Micros(const google::protobuf::Timestamp& ts, bool present) {
  if (!present) return std::nullopt;
  return absl::StrCat(TimeUtil::TimestampToMicroseconds(ts));
}

int64_t Version(const std::string& etag) {
  int64_t version = 0;
  (void)absl::SimpleAtoi(etag, &version);
  return version;
}

// "FORECAST_CATEGORY_BEST_CASE" -> "best_case".
std::string EnumText(const std::string& name, absl::string_view prefix) {
  return absl::AsciiStrToLower(absl::StripPrefix(name, prefix));
}

template <typename T>
absl::Status Unpack(const crm::common::v1::Event& event, T& payload) {
  if (event.payload().UnpackTo(&payload)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("bad payload for ", event.event_type()));
}

void RecordProgress(Transaction& tx, absl::string_view source,
                    const crm::common::v1::Event& event) {
  tx.Queue(
      absl::StrCat("UPDATE reporting.source_progress SET position = greatest(position, $2), "
                   "event_time = ",
                   db::TimeParam(3), " WHERE source = $1"),
      {std::string(source), absl::StrCat(event.position()), *Micros(event.occurred_time(), true)});
}

// The tenant's time zone, as the rollups bucket days in.
constexpr char kTenantZone[] =
    "coalesce((SELECT time_zone FROM reporting.tenant_settings WHERE tenant_id = $1), 'UTC')";

// Adds `sign` x the deal's closed contribution (when it is closed and live) to the daily rollup.
void QueueRollup(Transaction& tx, const std::string& tenant, const std::string& deal_id, int sign) {
  tx.Queue(
      absl::StrCat(
          "INSERT INTO reporting.closed_deals_daily AS r (tenant_id, day, owner, "
          "currency_code, lead_source, outcome, deals, amount_minor, cycle_seconds) "
          "SELECT d.tenant_id, (d.close_time AT TIME ZONE ",
          kTenantZone,
          ")::date, d.owner, d.currency_code, d.lead_source, d.outcome, $3::bigint, $3::bigint "
          "* d.amount_minor, $3::bigint * floor(extract(epoch FROM d.close_time - "
          "d.create_time))::bigint FROM reporting.deals d WHERE d.tenant_id = $1 AND "
          "d.deal_id = $2::uuid AND NOT d.deleted AND d.close_time IS NOT NULL AND d.outcome "
          "IN ('won', 'lost') ON CONFLICT (tenant_id, day, owner, currency_code, lead_source, "
          "outcome) DO UPDATE SET deals = r.deals + EXCLUDED.deals, amount_minor = "
          "r.amount_minor + EXCLUDED.amount_minor, cycle_seconds = r.cycle_seconds + "
          "EXCLUDED.cycle_seconds"),
      {tenant, deal_id, absl::StrCat(sign)});
}

// Rollup writers (deal changes) and re-bucketing (a time zone change) of one tenant run in
// different consumers: this lock keeps them from interleaving.
void LockTenantRollups(Transaction& tx, const std::string& tenant) {
  tx.Queue("SELECT pg_advisory_xact_lock(hashtext('reporting.rollups:' || $1))", {tenant});
}

// Upserts the deal fact if `deal` is newer than what is stored, keeping the rollup in step.
// `kind` is the stage kind the event reports ("" when it does not say).
absl::Status ApplyDeal(Transaction& tx, const std::string& tenant, const pv1::Deal& deal,
                       const std::string& kind = "") {
  const std::string id = IdOf(deal.name());
  LockTenantRollups(tx, tenant);
  ASSIGN_OR_RETURN(db::Result current,
                   tx.Exec("SELECT version FROM reporting.deals WHERE tenant_id = $1 AND "
                           "deal_id = $2::uuid FOR UPDATE",
                           {tenant, id}));
  const int64_t version = Version(deal.etag());
  if (current.rows() > 0 && current.Int(0, 0) >= version) return absl::OkStatus();  // stale
  if (current.rows() > 0) QueueRollup(tx, tenant, id, -1);
  tx.Queue(
      absl::StrCat(
          "INSERT INTO reporting.deals (tenant_id, deal_id, version, owner, pipeline_id, "
          "stage_id, amount_minor, currency_code, probability_percent, lead_source, "
          "expected_close_date, create_time, close_time, outcome, custom_fields) VALUES ($1, "
          "$2::uuid, $3, "
          "$4, $5::uuid, $6::uuid, $7, $8, $9, $10, $11::date, ",
          db::TimeParam(12), ", ", db::TimeParam(13),
          ", coalesce(CASE $14::text WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' WHEN 'open' "
          "THEN "
          "'open' END, (SELECT CASE kind WHEN 'won' THEN 'won' WHEN 'lost' THEN 'lost' ELSE "
          "'open' END FROM reporting.stages WHERE tenant_id = $1 AND stage_id = $6::uuid), "
          "CASE WHEN $13::bigint IS NULL THEN 'open' ELSE 'won' END), $15::jsonb) "
          "ON CONFLICT (tenant_id, deal_id) DO UPDATE SET version = EXCLUDED.version, owner = "
          "EXCLUDED.owner, pipeline_id = EXCLUDED.pipeline_id, stage_id = EXCLUDED.stage_id, "
          "amount_minor = EXCLUDED.amount_minor, currency_code = EXCLUDED.currency_code, "
          "probability_percent = EXCLUDED.probability_percent, lead_source = "
          "EXCLUDED.lead_source, expected_close_date = EXCLUDED.expected_close_date, "
          "create_time = EXCLUDED.create_time, close_time = EXCLUDED.close_time, outcome = "
          "EXCLUDED.outcome, custom_fields = EXCLUDED.custom_fields"),
      {tenant, id, absl::StrCat(version), deal.owner(), OptionalId(deal.pipeline()),
       OptionalId(deal.stage()), absl::StrCat(deal.amount().amount_minor()),
       deal.amount().currency_code(), absl::StrCat(deal.probability_percent()), deal.lead_source(),
       deal.expected_close_date().empty() ? Param() : Param(deal.expected_close_date()),
       *Micros(deal.create_time(), true), Micros(deal.close_time(), deal.has_close_time()), kind,
       fields::ValuesToJson(deal.custom_fields())});
  QueueRollup(tx, tenant, id, +1);
  tx.Queue("DELETE FROM reporting.closed_deals_daily WHERE tenant_id = $1 AND deals = 0", {tenant});
  return absl::OkStatus();
}

void EnterStage(Transaction& tx, const std::string& tenant, const std::string& deal_id,
                const std::string& from_stage, const std::string& to_stage,
                const google::protobuf::Timestamp& at) {
  const std::string micros = *Micros(at, true);
  if (!from_stage.empty()) {
    tx.Queue(absl::StrCat("UPDATE reporting.stage_entries SET leave_time = ", db::TimeParam(4),
                          " WHERE tenant_id = $1 AND deal_id = $2::uuid AND stage_id = $3::uuid "
                          "AND leave_time IS NULL AND enter_time <= ",
                          db::TimeParam(4)),
             {tenant, deal_id, from_stage, micros});
  }
  tx.Queue(absl::StrCat("INSERT INTO reporting.stage_entries (tenant_id, deal_id, stage_id, "
                        "enter_time) VALUES ($1, $2::uuid, $3::uuid, ",
                        db::TimeParam(4), ") ON CONFLICT DO NOTHING"),
           {tenant, deal_id, to_stage, micros});
}

// Re-buckets the tenant's daily rollups (its time zone changed).
void QueueRebucket(Transaction& tx, const std::string& tenant) {
  tx.Queue("DELETE FROM reporting.closed_deals_daily WHERE tenant_id = $1", {tenant});
  tx.Queue(absl::StrCat(
               "INSERT INTO reporting.closed_deals_daily (tenant_id, day, owner, currency_code, "
               "lead_source, outcome, deals, amount_minor, cycle_seconds) SELECT tenant_id, "
               "(close_time AT TIME ZONE ",
               kTenantZone,
               ")::date, owner, currency_code, lead_source, outcome, count(*), sum(amount_minor), "
               "sum(floor(extract(epoch FROM close_time - create_time))::bigint) FROM "
               "reporting.deals WHERE tenant_id = $1 AND NOT deleted AND close_time IS NOT NULL "
               "AND outcome IN ('won', 'lost') GROUP BY 1, 2, 3, 4, 5, 6"),
           {tenant});
  tx.Queue("DELETE FROM reporting.activities_daily WHERE tenant_id = $1", {tenant});
  tx.Queue(absl::StrCat("INSERT INTO reporting.activities_daily (tenant_id, day, author, kind, "
                        "activities) SELECT tenant_id, (occur_time AT TIME ZONE ",
                        kTenantZone,
                        ")::date, author, kind, count(*) FROM reporting.activities WHERE "
                        "tenant_id = $1 GROUP BY 1, 2, 3, 4"),
           {tenant});
}

}  // namespace

events::EventRouter PipelineEvents() {
  events::EventRouter router;
  router.On<pv1::PipelineChanged>([](Transaction& tx, const crm::common::v1::Event& event,
                                     const pv1::PipelineChanged& changed) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    const auto& p = changed.pipeline();
    for (int i = 0; i < p.stages_size(); ++i) {
      const pv1::Stage& s = p.stages(i);
      tx.Queue(
          "INSERT INTO reporting.stages (tenant_id, stage_id, pipeline_id, position, "
          "display_name, kind, forecast_category, probability_percent) VALUES ($1, $2::uuid, "
          "$3::uuid, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, stage_id) DO UPDATE SET "
          "position = EXCLUDED.position, display_name = EXCLUDED.display_name, kind = "
          "EXCLUDED.kind, forecast_category = EXCLUDED.forecast_category, probability_percent = "
          "EXCLUDED.probability_percent",
          {tenant, s.id(), IdOf(p.name()), absl::StrCat(i), s.display_name(),
           EnumText(pv1::StageKind_Name(s.kind()), "STAGE_KIND_"),
           EnumText(pv1::ForecastCategory_Name(s.forecast_category()), "FORECAST_CATEGORY_"),
           absl::StrCat(s.probability_percent())});
    }
    return absl::OkStatus();
  });
  router.On<pv1::DealCreated>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const pv1::DealCreated& created) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    RETURN_IF_ERROR(ApplyDeal(tx, tenant, created.deal()));
    EnterStage(tx, tenant, IdOf(created.deal().name()), "", created.deal().stage(),
               created.deal().create_time());
    return absl::OkStatus();
  });
  router.On<pv1::DealUpdated>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const pv1::DealUpdated& updated) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    RETURN_IF_ERROR(ApplyDeal(tx, tenant, updated.deal()));
    return absl::OkStatus();
  });
  router.On<pv1::DealMoved>([](Transaction& tx, const crm::common::v1::Event& event,
                               const pv1::DealMoved& moved) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    // The move says which kind of stage the deal reached, even one this model has not seen.
    RETURN_IF_ERROR(ApplyDeal(tx, tenant, moved.deal(),
                              EnumText(pv1::StageKind_Name(moved.to_kind()), "STAGE_KIND_")));
    EnterStage(tx, tenant, IdOf(moved.deal().name()), moved.change().from_stage(),
               moved.change().to_stage(), moved.change().change_time());
    return absl::OkStatus();
  });
  router.On<pv1::DealDeleted>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const pv1::DealDeleted& deleted) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    const std::string id = IdOf(deleted.name());
    LockTenantRollups(tx, tenant);
    QueueRollup(tx, tenant, id, -1);
    tx.Queue(
        "UPDATE reporting.deals SET deleted = true WHERE tenant_id = $1 AND deal_id = "
        "$2::uuid AND NOT deleted",
        {tenant, id});
    tx.Queue("DELETE FROM reporting.closed_deals_daily WHERE tenant_id = $1 AND deals = 0",
             {tenant});
    return absl::OkStatus();
  });
  router.After([](Transaction& tx, const crm::common::v1::Event& event) {
    RecordProgress(tx, "pipeline", event);
    return absl::OkStatus();
  });
  return router;
}

namespace {

void UpsertContact(Transaction& tx, const std::string& tenant, const cv1::Contact& c) {
  tx.Queue(absl::StrCat("INSERT INTO reporting.contacts AS c (tenant_id, contact_id, version, "
                        "owner, lead_source, lifecycle_stage, create_time, custom_fields) VALUES "
                        "($1, $2::uuid, $3, $4, $5, $6, ",
                        db::TimeParam(7),
                        ", $8::jsonb) ON CONFLICT (tenant_id, contact_id) DO UPDATE SET version = "
                        "EXCLUDED.version, owner = EXCLUDED.owner, lead_source = "
                        "EXCLUDED.lead_source, lifecycle_stage = EXCLUDED.lifecycle_stage, "
                        "create_time = EXCLUDED.create_time, custom_fields = "
                        "EXCLUDED.custom_fields WHERE c.version < EXCLUDED.version"),
           {tenant, IdOf(c.name()), absl::StrCat(Version(c.etag())), c.owner(),
            EnumText(cv1::LeadSource_Name(c.lead_source()), "LEAD_SOURCE_"),
            EnumText(cv1::LifecycleStage_Name(c.lifecycle_stage()), "LIFECYCLE_STAGE_"),
            *Micros(c.create_time(), true), fields::ValuesToJson(c.custom_fields())});
}

}  // namespace

events::EventRouter ContactsEvents() {
  events::EventRouter router;
  router.On<cv1::ContactCreated>([](Transaction& tx, const crm::common::v1::Event& event,
                                    const cv1::ContactCreated& created) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    UpsertContact(tx, tenant, created.contact());
    return absl::OkStatus();
  });
  router.On<cv1::ContactUpdated>([](Transaction& tx, const crm::common::v1::Event& event,
                                    const cv1::ContactUpdated& updated) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    UpsertContact(tx, tenant, updated.contact());
    return absl::OkStatus();
  });
  router.On<cv1::ContactDeleted>([](Transaction& tx, const crm::common::v1::Event& event,
                                    const cv1::ContactDeleted& deleted) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    tx.Queue(
        "UPDATE reporting.contacts SET deleted = true WHERE tenant_id = $1 AND contact_id = "
        "$2::uuid",
        {tenant, IdOf(deleted.name())});
    return absl::OkStatus();
  });
  router.On<cv1::ContactsMerged>([](Transaction& tx, const crm::common::v1::Event& event,
                                    const cv1::ContactsMerged& merged) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    // One person: the loser stops counting as a lead of its own.
    tx.Queue(
        "UPDATE reporting.contacts SET deleted = true WHERE tenant_id = $1 AND contact_id = "
        "$2::uuid",
        {tenant, IdOf(merged.loser())});
    if (merged.has_contact()) UpsertContact(tx, tenant, merged.contact());
    return absl::OkStatus();
  });
  router.On<cv1::ActivityLogged>([](Transaction& tx, const crm::common::v1::Event& event,
                                    const cv1::ActivityLogged& logged) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    const cv1::Activity& a = logged.activity();
    // The rollup counts the activity only when the fact is new (a repeated event adds nothing).
    tx.Queue(absl::StrCat("WITH added AS (INSERT INTO reporting.activities (tenant_id, "
                          "activity_id, kind, author, occur_time) VALUES ($1, $2::uuid, $3, $4, ",
                          db::TimeParam(5),
                          ") ON CONFLICT DO NOTHING RETURNING tenant_id, kind, author, occur_time) "
                          "INSERT INTO reporting.activities_daily AS r (tenant_id, day, author, "
                          "kind, activities) SELECT tenant_id, (occur_time AT TIME ZONE ",
                          kTenantZone,
                          ")::date, author, kind, 1 FROM added ON CONFLICT (tenant_id, day, "
                          "author, kind) DO UPDATE SET activities = r.activities + 1"),
             {tenant, IdOf(a.name()), EnumText(cv1::ActivityKind_Name(a.kind()), "ACTIVITY_KIND_"),
              a.author(), *Micros(a.occur_time(), true)});
    return absl::OkStatus();
  });
  router.On<cv1::TenantSettingsChanged>(
      [](Transaction& tx, const crm::common::v1::Event& event,
         const cv1::TenantSettingsChanged& changed) -> absl::Status {
        [[maybe_unused]] const std::string& tenant = event.tenant();
        const auto& s = changed.settings();
        ASSIGN_OR_RETURN(
            db::Result before,
            tx.Exec("SELECT time_zone FROM reporting.tenant_settings WHERE tenant_id = $1",
                    {tenant}));
        const std::string zone = s.time_zone().empty() ? "UTC" : s.time_zone();
        tx.Queue(
            "INSERT INTO reporting.tenant_settings (tenant_id, time_zone, fiscal_year_start_month) "
            "VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET time_zone = "
            "EXCLUDED.time_zone, fiscal_year_start_month = EXCLUDED.fiscal_year_start_month",
            {tenant, zone,
             absl::StrCat(s.fiscal_year_start_month() >= 1 && s.fiscal_year_start_month() <= 12
                              ? s.fiscal_year_start_month()
                              : 1)});
        const std::string old_zone = before.rows() > 0 ? before.String(0, 0) : "UTC";
        if (old_zone != zone) {
          LockTenantRollups(tx, tenant);
          QueueRebucket(tx, tenant);
        }
        return absl::OkStatus();
      });
  router.After([](Transaction& tx, const crm::common::v1::Event& event) {
    RecordProgress(tx, "contacts", event);
    return absl::OkStatus();
  });
  return router;
}

namespace {

void UpsertTask(Transaction& tx, const std::string& tenant, const tv1::Task& t, bool deleted) {
  tx.Queue(absl::StrCat("INSERT INTO reporting.tasks AS t (tenant_id, task_id, version, "
                        "assignee, status, create_time, due_time, complete_time, deleted) VALUES "
                        "($1, $2::uuid, $3, $4, $5, ",
                        db::TimeParam(6), ", ", db::TimeParam(7), ", ", db::TimeParam(8),
                        ", $9) ON CONFLICT (tenant_id, task_id) DO UPDATE SET version = "
                        "EXCLUDED.version, assignee = EXCLUDED.assignee, status = EXCLUDED.status, "
                        "create_time = EXCLUDED.create_time, due_time = EXCLUDED.due_time, "
                        "complete_time = EXCLUDED.complete_time, deleted = EXCLUDED.deleted "
                        "WHERE t.version < EXCLUDED.version OR (EXCLUDED.deleted AND NOT "
                        "t.deleted)"),
           {tenant, IdOf(t.name()), absl::StrCat(Version(t.etag())), t.assignee(),
            EnumText(tv1::TaskStatus_Name(t.status()), "TASK_STATUS_"),
            *Micros(t.create_time(), true), Micros(t.due_time(), t.has_due_time()),
            Micros(t.complete_time(), t.has_complete_time()), deleted ? "true" : "false"});
}

}  // namespace

events::EventRouter TasksEvents() {
  events::EventRouter router;
  router.On<tv1::TaskCreated>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const tv1::TaskCreated& created) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    UpsertTask(tx, event.tenant(), created.task(), false);
    return absl::OkStatus();
  });
  router.On<tv1::TaskUpdated>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const tv1::TaskUpdated& updated) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    UpsertTask(tx, event.tenant(), updated.task(), false);
    return absl::OkStatus();
  });
  router.On<tv1::TaskDeleted>([](Transaction& tx, const crm::common::v1::Event& event,
                                 const tv1::TaskDeleted& deleted) -> absl::Status {
    [[maybe_unused]] const std::string& tenant = event.tenant();
    UpsertTask(tx, event.tenant(), deleted.task(), true);
    return absl::OkStatus();
  });
  router.After([](Transaction& tx, const crm::common::v1::Event& event) {
    RecordProgress(tx, "tasks", event);
    return absl::OkStatus();
  });
  return router;
}

absl::Status ResetReadModels(db::Pool& pool, const std::vector<std::string>& consumers) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::BeginSystem(pool, absl::Now() + absl::Minutes(5)));
  tx.Queue(
      "TRUNCATE reporting.tenant_settings, reporting.stages, reporting.deals, "
      "reporting.stage_entries, reporting.closed_deals_daily, reporting.activities, "
      "reporting.activities_daily, "
      "reporting.tasks, reporting.contacts");
  tx.Queue("UPDATE reporting.source_progress SET position = 0, event_time = NULL");
  for (const std::string& consumer : consumers) {
    tx.Queue(
        "UPDATE reporting.consumer_checkpoints SET position = 0, updated_at = now() WHERE "
        "consumer = $1",
        {consumer});
    tx.Queue("DELETE FROM reporting.consumer_dead_letters WHERE consumer = $1", {consumer});
  }
  return tx.Commit();
}

}  // namespace crm::reporting
