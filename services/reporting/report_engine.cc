#include "services/reporting/report_engine.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/db/transaction.h"
#include "common/fields/custom_field_rules.h"
#include "common/ids/uuid.h"
#include "services/reporting/decimal_sum.h"
#include "services/reporting/periods.h"

namespace crm::reporting {
namespace {

using v1::Dimension;

// Placeholders every report query shares.
constexpr char kTenant[] = "$1";
constexpr char kZone[] = "$2";
constexpr char kFrom[] = "$3";
constexpr char kTo[] = "$4";
constexpr char kFiscal[] = "$5";
constexpr char kExtra[] = "$6";  // to_stage (conversion) or the overdue cutoff (tasks)

std::string FromTs() {
  return absl::StrCat("(", kFrom, "::date::timestamp AT TIME ZONE ", kZone, ")");
}
std::string ToTs() { return absl::StrCat("(", kTo, "::date::timestamp AT TIME ZONE ", kZone, ")"); }
std::string Local(const std::string& ts) {
  return absl::StrCat("(", ts, " AT TIME ZONE ", kZone, ")");
}

// One grouping column: its name, the SQL of its label, and the SQL it is ordered by.
struct DimSql {
  std::string name;
  std::string label;
  std::string order;
};

// What a report kind is made of.
struct KindDef {
  std::vector<Dimension> allowed;
  std::vector<Dimension> defaults;
  // SQL of the raw integer aggregates, in order.
  std::vector<std::string> raw_names;
  // Output columns after the dimensions (and currency).
  std::vector<v1::Column> metrics;
  bool per_currency = false;
  // Text columns the query adds after the dimensions (forecast: category).
  std::vector<std::string> fixed_text;
  // The alias of the records whose custom fields the report can group by and sum ("d" deals,
  // "c" contacts); "" when it has none.
  std::string record;
  // The query: dims, then fixed text, then currency (if per_currency), then raw aggregates,
  // then `measure` (", sum(...)" of a custom field, or "").
  std::function<std::string(const std::vector<DimSql>& dims, const std::string& bucket,
                            const std::string& measure)>
      sql;
  // Raw aggregates -> metric cells; `mixed_currency` blanks money in mixed totals.
  std::function<std::vector<std::string>(const std::vector<int64_t>& raw, bool mixed_currency)>
      format;
};

v1::Column Col(const std::string& name, const std::string& type) {
  v1::Column c;
  c.set_name(name);
  c.set_type(type);
  return c;
}

// num / den as a percentage with two decimals, rounded half up; "" when den is 0.
std::string Percent(int64_t num, int64_t den) {
  if (den == 0) return "";
  const int64_t hundredths = (num * 20000 + den) / (2 * den);
  return absl::StrFormat("%d.%02d", hundredths / 100, hundredths % 100);
}

// value / den with one decimal, rounded half up; "" when den is 0.
std::string Tenths(int64_t value, int64_t den) {
  if (den == 0) return "";
  const int64_t tenths = (value * 20 + den) / (2 * den);
  return absl::StrFormat("%d.%d", tenths / 10, tenths % 10);
}

std::string Int(int64_t v) { return absl::StrCat(v); }

// The SQL of a grouped query: SELECT dims..., rest FROM ... WHERE ... GROUP BY dims ORDER BY.
std::string Grouped(const std::vector<DimSql>& dims, const std::vector<std::string>& extra_groups,
                    const std::string& select_rest, const std::string& from_where) {
  std::vector<std::string> select, group, order;
  for (const DimSql& d : dims) {
    select.push_back(d.label);
    group.push_back(d.label);
    order.push_back(d.order);
  }
  for (const std::string& g : extra_groups) {
    select.push_back(g);
    group.push_back(g);
    order.push_back(g);
  }
  select.push_back(select_rest);
  return absl::StrCat("SELECT ", absl::StrJoin(select, ", "), " ", from_where,
                      group.empty() ? "" : absl::StrCat(" GROUP BY ", absl::StrJoin(group, ", ")),
                      order.empty() ? "" : absl::StrCat(" ORDER BY ", absl::StrJoin(order, ", ")));
}

const std::map<v1::ReportKind, KindDef>& Kinds() {
  static const auto* kinds = new std::map<v1::ReportKind, KindDef>{
      {v1::REPORT_KIND_PIPELINE_BY_STAGE,
       {{v1::DIMENSION_STAGE, v1::DIMENSION_REP, v1::DIMENSION_SOURCE, v1::DIMENSION_PERIOD,
         v1::DIMENSION_CUSTOM_FIELD},
        {v1::DIMENSION_STAGE},
        {"deals", "amount", "weighted"},
        {Col("deals", "integer"), Col("amount", "money"), Col("weighted_amount", "money")},
        true,
        {},
        "d",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string& measure) {
          return Grouped(dims, {"d.currency_code"},
                         absl::StrCat("count(*), sum(d.amount_minor), sum((d.amount_minor * "
                                      "d.probability_percent) / 100)",
                                      measure),
                         absl::StrCat("FROM reporting.deals d LEFT JOIN reporting.stages s ON "
                                      "s.tenant_id = d.tenant_id AND s.stage_id = d.stage_id "
                                      "WHERE d.tenant_id = ",
                                      kTenant,
                                      " AND NOT d.deleted AND d.outcome = 'open' AND "
                                      "d.expected_close_date >= ",
                                      kFrom, "::date AND d.expected_close_date < ", kTo, "::date"));
        },
        [](const std::vector<int64_t>& r, bool mixed) {
          return std::vector<std::string>{Int(r[0]), mixed ? "" : Int(r[1]),
                                          mixed ? "" : Int(r[2])};
        }}},
      {v1::REPORT_KIND_WON_LOST,
       {{v1::DIMENSION_REP, v1::DIMENSION_SOURCE, v1::DIMENSION_PERIOD},
        {v1::DIMENSION_REP},
        {"won", "won_amount", "lost", "lost_amount", "won_cycle_seconds"},
        {Col("won", "integer"), Col("won_amount", "money"), Col("lost", "integer"),
         Col("lost_amount", "money"), Col("win_rate", "percent"), Col("avg_deal_size", "money"),
         Col("avg_sales_cycle", "days")},
        true,
        {},
        "",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string&) {
          return Grouped(
              dims, {"r.currency_code"},
              "coalesce(sum(r.deals) FILTER (WHERE r.outcome = 'won'), 0), coalesce(sum("
              "r.amount_minor) FILTER (WHERE r.outcome = 'won'), 0), coalesce(sum(r.deals) "
              "FILTER (WHERE r.outcome = 'lost'), 0), coalesce(sum(r.amount_minor) FILTER "
              "(WHERE r.outcome = 'lost'), 0), coalesce(sum(r.cycle_seconds) FILTER (WHERE "
              "r.outcome = 'won'), 0)",
              absl::StrCat("FROM reporting.closed_deals_daily r WHERE r.tenant_id = ", kTenant,
                           " AND r.day >= ", kFrom, "::date AND r.day < ", kTo, "::date"));
        },
        [](const std::vector<int64_t>& r, bool mixed) {
          return std::vector<std::string>{Int(r[0]),
                                          mixed ? "" : Int(r[1]),
                                          Int(r[2]),
                                          mixed ? "" : Int(r[3]),
                                          Percent(r[0], r[0] + r[2]),
                                          mixed || r[0] == 0 ? "" : Int(r[1] / r[0]),
                                          Tenths(r[4], r[0] * 86400)};
        }}},
      {v1::REPORT_KIND_STAGE_CONVERSION,
       {{v1::DIMENSION_STAGE, v1::DIMENSION_REP},
        {v1::DIMENSION_STAGE},
        {"entered", "reached", "median_seconds"},
        {Col("entered", "integer"), Col("reached", "integer"), Col("conversion", "percent"),
         Col("median_time_in_stage", "hours")},
        false,
        {},
        "",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string&) {
          return Grouped(
              dims, {},
              absl::StrCat(
                  "count(DISTINCT e.deal_id), count(DISTINCT e.deal_id) FILTER (WHERE EXISTS "
                  "(SELECT 1 FROM reporting.stage_entries e2 LEFT JOIN reporting.stages s2 ON "
                  "s2.tenant_id = e2.tenant_id AND s2.stage_id = e2.stage_id WHERE e2.tenant_id = "
                  "e.tenant_id AND e2.deal_id = e.deal_id AND e2.enter_time >= e.enter_time AND "
                  "(CASE WHEN ",
                  kExtra, "::uuid IS NULL THEN s2.kind = 'won' ELSE e2.stage_id = ", kExtra,
                  "::uuid END))), coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY floor("
                  "extract(epoch FROM e.leave_time - e.enter_time))::bigint) FILTER (WHERE "
                  "e.leave_time IS NOT NULL), -1)"),
              absl::StrCat("FROM reporting.stage_entries e JOIN reporting.deals d ON d.tenant_id "
                           "= e.tenant_id AND d.deal_id = e.deal_id LEFT JOIN reporting.stages s "
                           "ON s.tenant_id = e.tenant_id AND s.stage_id = e.stage_id WHERE "
                           "e.tenant_id = ",
                           kTenant, " AND NOT d.deleted AND e.enter_time >= ", FromTs(),
                           " AND e.enter_time < ", ToTs()));
        },
        [](const std::vector<int64_t>& r, bool) {
          return std::vector<std::string>{Int(r[0]), Int(r[1]), Percent(r[1], r[0]),
                                          r[2] < 0 ? "" : Tenths(r[2], 3600)};
        }}},
      {v1::REPORT_KIND_FORECAST,
       {{v1::DIMENSION_PERIOD, v1::DIMENSION_REP, v1::DIMENSION_CUSTOM_FIELD},
        {v1::DIMENSION_PERIOD},
        {"deals", "amount", "weighted"},
        {Col("deals", "integer"), Col("amount", "money"), Col("weighted_amount", "money")},
        true,
        {"category"},
        "d",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string& measure) {
          return Grouped(dims,
                         {"(CASE WHEN d.outcome = 'won' THEN 'closed' ELSE coalesce("
                          "s.forecast_category, 'pipeline') END)",
                          "d.currency_code"},
                         absl::StrCat("count(*), sum(d.amount_minor), sum((d.amount_minor * "
                                      "CASE WHEN d.outcome = 'won' THEN 100 ELSE "
                                      "d.probability_percent END) / 100)",
                                      measure),
                         absl::StrCat("FROM reporting.deals d LEFT JOIN reporting.stages s ON "
                                      "s.tenant_id = d.tenant_id AND s.stage_id = d.stage_id "
                                      "WHERE d.tenant_id = ",
                                      kTenant,
                                      " AND NOT d.deleted AND d.outcome IN ('open', 'won') AND "
                                      "d.expected_close_date >= ",
                                      kFrom, "::date AND d.expected_close_date < ", kTo, "::date"));
        },
        [](const std::vector<int64_t>& r, bool mixed) {
          return std::vector<std::string>{Int(r[0]), mixed ? "" : Int(r[1]),
                                          mixed ? "" : Int(r[2])};
        }}},
      {v1::REPORT_KIND_ACTIVITIES_BY_REP,
       {{v1::DIMENSION_REP, v1::DIMENSION_PERIOD},
        {v1::DIMENSION_REP},
        {"calls", "emails", "meetings", "notes"},
        {Col("calls", "integer"), Col("emails", "integer"), Col("meetings", "integer"),
         Col("notes", "integer"), Col("total", "integer")},
        false,
        {},
        "",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string&) {
          return Grouped(
              dims, {},
              "coalesce(sum(a.activities) FILTER (WHERE a.kind = 'call'), 0), "
              "coalesce(sum(a.activities) FILTER (WHERE a.kind = 'email'), 0), "
              "coalesce(sum(a.activities) FILTER (WHERE a.kind = 'meeting'), 0), "
              "coalesce(sum(a.activities) FILTER (WHERE a.kind = 'note'), 0)",
              absl::StrCat("FROM reporting.activities_daily a WHERE a.tenant_id = ", kTenant,
                           " AND a.day >= ", kFrom, "::date AND a.day < ", kTo, "::date"));
        },
        [](const std::vector<int64_t>& r, bool) {
          return std::vector<std::string>{Int(r[0]), Int(r[1]), Int(r[2]), Int(r[3]),
                                          Int(r[0] + r[1] + r[2] + r[3])};
        }}},
      {v1::REPORT_KIND_TASKS_BY_REP,
       {{v1::DIMENSION_REP},
        {v1::DIMENSION_REP},
        {"created", "done", "overdue"},
        {Col("created", "integer"), Col("done", "integer"), Col("overdue_at_end", "integer")},
        false,
        {},
        "",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string&) {
          const std::string cutoff = db::TimeParam(6);
          return Grouped(
              dims, {},
              absl::StrCat("count(*) FILTER (WHERE t.create_time >= ", FromTs(),
                           " AND t.create_time < ", ToTs(),
                           "), count(*) FILTER (WHERE t.status = 'done' AND t.complete_time >= ",
                           FromTs(), " AND t.complete_time < ", ToTs(),
                           "), count(*) FILTER (WHERE t.status <> 'cancelled' AND t.due_time < ",
                           cutoff, " AND t.create_time < ", cutoff,
                           " AND (t.complete_time IS NULL OR t.complete_time >= ", cutoff, "))"),
              // Every rep with a task made before the period's end gets a row.
              absl::StrCat("FROM reporting.tasks t WHERE t.tenant_id = ", kTenant,
                           " AND NOT t.deleted AND t.create_time < ", ToTs()));
        },
        [](const std::vector<int64_t>& r, bool) {
          return std::vector<std::string>{Int(r[0]), Int(r[1]), Int(r[2])};
        }}},
      {v1::REPORT_KIND_LEADS_BY_SOURCE,
       {{v1::DIMENSION_SOURCE, v1::DIMENSION_REP, v1::DIMENSION_PERIOD, v1::DIMENSION_CUSTOM_FIELD},
        {v1::DIMENSION_SOURCE},
        {"leads", "customers"},
        {Col("leads", "integer"), Col("customers", "integer"), Col("conversion", "percent")},
        false,
        {},
        "c",
        [](const std::vector<DimSql>& dims, const std::string&, const std::string& measure) {
          return Grouped(dims, {},
                         absl::StrCat("count(*), count(*) FILTER (WHERE c.lifecycle_stage = "
                                      "'customer')",
                                      measure),
                         absl::StrCat("FROM reporting.contacts c WHERE c.tenant_id = ", kTenant,
                                      " AND NOT c.deleted AND c.create_time >= ", FromTs(),
                                      " AND c.create_time < ", ToTs()));
        },
        [](const std::vector<int64_t>& r, bool) {
          return std::vector<std::string>{Int(r[0]), Int(r[1]), Percent(r[1], r[0])};
        }}},
  };
  return *kinds;
}

// The SQL of a dimension for a report kind (its table alias and time column differ).
absl::StatusOr<DimSql> DimensionSql(v1::ReportKind kind, Dimension dim, const std::string& bucket) {
  const bool deals = kind == v1::REPORT_KIND_PIPELINE_BY_STAGE || kind == v1::REPORT_KIND_FORECAST;
  switch (dim) {
    case v1::DIMENSION_REP: {
      const std::map<v1::ReportKind, std::string> rep = {
          {v1::REPORT_KIND_PIPELINE_BY_STAGE, "d.owner"},
          {v1::REPORT_KIND_FORECAST, "d.owner"},
          {v1::REPORT_KIND_WON_LOST, "r.owner"},
          {v1::REPORT_KIND_STAGE_CONVERSION, "d.owner"},
          {v1::REPORT_KIND_ACTIVITIES_BY_REP, "a.author"},
          {v1::REPORT_KIND_TASKS_BY_REP, "t.assignee"},
          {v1::REPORT_KIND_LEADS_BY_SOURCE, "c.owner"}};
      return DimSql{"rep", rep.at(kind), rep.at(kind)};
    }
    case v1::DIMENSION_STAGE: {
      const std::string alias = kind == v1::REPORT_KIND_STAGE_CONVERSION ? "e" : "d";
      return DimSql{"stage", absl::StrCat("coalesce(s.display_name, ", alias, ".stage_id::text)"),
                    "min(coalesce(s.position, 1000000))"};
    }
    case v1::DIMENSION_SOURCE: {
      const std::string source = kind == v1::REPORT_KIND_WON_LOST          ? "r.lead_source"
                                 : kind == v1::REPORT_KIND_LEADS_BY_SOURCE ? "c.lead_source"
                                                                           : "d.lead_source";
      const std::string label = absl::StrCat("coalesce(nullif(", source, ", ''), 'unknown')");
      return DimSql{"source", label, label};
    }
    case v1::DIMENSION_PERIOD: {
      std::string local_date;
      if (deals) {
        local_date = "d.expected_close_date";
      } else if (kind == v1::REPORT_KIND_WON_LOST) {
        local_date = "r.day";
      } else if (kind == v1::REPORT_KIND_ACTIVITIES_BY_REP) {
        local_date = "a.day";
      } else if (kind == v1::REPORT_KIND_LEADS_BY_SOURCE) {
        local_date = Local("c.create_time");
      } else {
        local_date = Local("e.enter_time");
      }
      const std::string sql = absl::StrCat(BucketSql(bucket, local_date, kFiscal), "::text");
      return DimSql{"period", sql, sql};
    }
    default:
      return api::InvalidField("spec.group_by", "unknown dimension");
  }
}

// The jsonb of one custom field of the report's records, `key` checked first: it is spliced into
// the SQL, as the services' filters splice defined keys.
absl::StatusOr<std::string> CustomFieldValue(const KindDef& def, const std::string& key,
                                             absl::string_view field) {
  if (def.record.empty()) {
    return api::InvalidField(field,
                             "this report has no custom fields (pipeline by stage, forecast and "
                             "leads by source do)");
  }
  if (!fields::IsFieldKey(key)) return api::InvalidField(field, "the key of a custom field");
  return absl::StrCat("(", def.record, ".custom_fields -> '", key, "')");
}

// Grouping by a custom field: whatever member its type stores, as text ("none" when unset).
DimSql CustomFieldDimension(const std::string& key, const std::string& value) {
  std::vector<std::string> members;
  for (const char* member :
       {"option", "text", "boolean", "user", "date", "email", "url", "phone"}) {
    members.push_back(absl::StrCat(value, " ->> '", member, "'"));
  }
  const std::string label = absl::StrCat("coalesce(", absl::StrJoin(members, ", "), ", 'none')");
  return DimSql{absl::StrCat("custom_fields.", key), label, label};
}

// Summing a custom field: two sums, of its values as a number (exact) and as money in minor
// units where its currency is the row's (deal reports group by currency; contacts have none, so
// there only numbers count). A field is one or the other, so one of them is NULL.
std::string CustomFieldSums(const KindDef& def, const std::string& value) {
  const std::string numbers = absl::StrCat(", sum((", value, " ->> 'number')::numeric)::text");
  if (!def.per_currency) return absl::StrCat(numbers, ", NULL::text");
  return absl::StrCat(numbers, ", sum(CASE WHEN ", value,
                      " -> 'money' ->> 'currency_code' = ", def.record, ".currency_code THEN (",
                      value, " -> 'money' ->> 'amount_minor')::numeric END)::text");
}

std::string DimensionName(Dimension dim) {
  switch (dim) {
    case v1::DIMENSION_REP:
      return "rep";
    case v1::DIMENSION_STAGE:
      return "stage";
    case v1::DIMENSION_SOURCE:
      return "source";
    case v1::DIMENSION_CUSTOM_FIELD:
      return "a custom field";
    default:
      return "period";
  }
}

}  // namespace

std::string ReportTitle(v1::ReportKind kind) {
  switch (kind) {
    case v1::REPORT_KIND_PIPELINE_BY_STAGE:
      return "Pipeline by stage";
    case v1::REPORT_KIND_WON_LOST:
      return "Won / lost";
    case v1::REPORT_KIND_STAGE_CONVERSION:
      return "Stage conversion";
    case v1::REPORT_KIND_FORECAST:
      return "Forecast";
    case v1::REPORT_KIND_ACTIVITIES_BY_REP:
      return "Activities per rep";
    case v1::REPORT_KIND_TASKS_BY_REP:
      return "Tasks per rep";
    case v1::REPORT_KIND_LEADS_BY_SOURCE:
      return "Leads by source";
    default:
      return "Report";
  }
}

absl::StatusOr<ReportEngine::Calendar> ReportEngine::CalendarOf(const std::string& tenant,
                                                                absl::Time deadline) {
  ASSIGN_OR_RETURN(db::Result r, db::RunOnce(pool_, tenant,
                                             "SELECT time_zone, fiscal_year_start_month FROM "
                                             "reporting.tenant_settings WHERE tenant_id = $1",
                                             {tenant}, deadline));
  Calendar calendar;
  if (r.rows() > 0) {
    calendar.time_zone = r.String(0, 0);
    calendar.fiscal_year_start_month = static_cast<int>(r.Int(0, 1));
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(calendar.time_zone, &zone)) calendar.time_zone = "UTC";
  return calendar;
}

absl::StatusOr<v1::Report> ReportEngine::Run(const std::string& tenant, const v1::ReportSpec& spec,
                                             absl::Time now, absl::Time deadline) {
  auto kind = Kinds().find(spec.kind());
  if (kind == Kinds().end()) {
    return api::InvalidField("spec.kind", "one of the report kinds (e.g. WON_LOST)");
  }
  const KindDef& def = kind->second;
  ASSIGN_OR_RETURN(Calendar calendar, CalendarOf(tenant, deadline));
  absl::TimeZone zone;
  (void)absl::LoadTimeZone(calendar.time_zone, &zone);
  const absl::CivilDay today = absl::ToCivilDay(now, zone);
  ASSIGN_OR_RETURN(Period period, ResolvePeriod(spec, today, calendar.fiscal_year_start_month));
  std::string bucket;
  if (spec.kind() == v1::REPORT_KIND_FORECAST && spec.bucket().empty()) {
    bucket = "month";  // by expected close month
  } else {
    ASSIGN_OR_RETURN(bucket, BucketOf(spec, period));
  }
  std::vector<Dimension> dims;
  for (int d : spec.group_by()) dims.push_back(static_cast<Dimension>(d));
  if (dims.empty()) dims = def.defaults;
  std::vector<DimSql> dim_sql;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (std::find(def.allowed.begin(), def.allowed.end(), dims[i]) == def.allowed.end() ||
        std::count(dims.begin(), dims.end(), dims[i]) > 1) {
      return api::InvalidField(absl::StrCat("spec.group_by[", i, "]"),
                               absl::StrCat("this report groups by ",
                                            absl::StrJoin(def.allowed, ", ",
                                                          [](std::string* out, Dimension d) {
                                                            out->append(DimensionName(d));
                                                          }),
                                            ", each once"));
    }
    if (dims[i] == v1::DIMENSION_CUSTOM_FIELD) {
      if (spec.custom_field().empty()) {
        return api::InvalidField("spec.custom_field", "required to group by a custom field");
      }
      ASSIGN_OR_RETURN(std::string value,
                       CustomFieldValue(def, spec.custom_field(), "spec.custom_field"));
      dim_sql.push_back(CustomFieldDimension(spec.custom_field(), value));
      continue;
    }
    ASSIGN_OR_RETURN(DimSql sql, DimensionSql(spec.kind(), dims[i], bucket));
    dim_sql.push_back(std::move(sql));
  }
  std::string measure;
  if (!spec.sum_custom_field().empty()) {
    ASSIGN_OR_RETURN(std::string value,
                     CustomFieldValue(def, spec.sum_custom_field(), "spec.sum_custom_field"));
    measure = CustomFieldSums(def, value);
  }
  db::Param extra = std::nullopt;
  if (spec.kind() == v1::REPORT_KIND_STAGE_CONVERSION && !spec.to_stage().empty()) {
    if (!ids::IsCanonicalUuid(spec.to_stage())) {
      return api::InvalidField("spec.to_stage", "a stage id");
    }
    extra = spec.to_stage();
  }
  if (spec.kind() == v1::REPORT_KIND_TASKS_BY_REP) {
    // Overdue as of the period's end, or now for a period still running.
    const absl::Time end = absl::FromCivil(period.to, zone);
    extra = db::MicrosParam(std::min(end, now));
  }
  const db::Params params = {tenant,
                             calendar.time_zone,
                             DayText(period.from),
                             DayText(period.to),
                             absl::StrCat(calendar.fiscal_year_start_month),
                             extra};

  ASSIGN_OR_RETURN(db::Transaction tx, db::Transaction::Begin(pool_, tenant, deadline));
  // Every placeholder typed once, whether or not this report's query uses it.
  const std::string extra_type = spec.kind() == v1::REPORT_KIND_STAGE_CONVERSION ? "uuid"
                                 : spec.kind() == v1::REPORT_KIND_TASKS_BY_REP   ? "bigint"
                                                                                 : "text";
  const std::string typed = absl::StrCat(
      "WITH report_params AS (SELECT $1::text, $2::text, $3::date, $4::date, $5::int, $6::",
      extra_type, ") ");
  const int rows_index = tx.Queue(typed + def.sql(dim_sql, bucket, measure), params);
  const int progress_index =
      tx.Queue(absl::StrCat("SELECT source, position, ", db::MicrosOf("event_time"),
                            " FROM reporting.source_progress ORDER BY source"));
  RETURN_IF_ERROR(tx.Commit());
  const db::Result& rows = tx.ResultOf(rows_index);
  const db::Result& progress = tx.ResultOf(progress_index);

  v1::Report report;
  *report.mutable_spec() = spec;
  report.set_from_date(DayText(period.from));
  report.set_to_date(DayText(period.to));
  report.set_time_zone(calendar.time_zone);
  report.set_title(absl::StrCat(ReportTitle(spec.kind()), ", ", DayText(period.from), " to ",
                                DayText(period.to - 1)));
  for (const DimSql& d : dim_sql) *report.add_columns() = Col(d.name, "text");
  for (const std::string& text : def.fixed_text) *report.add_columns() = Col(text, "text");
  if (def.per_currency) *report.add_columns() = Col("currency", "text");
  for (const v1::Column& c : def.metrics) *report.add_columns() = c;
  if (!measure.empty()) {
    *report.add_columns() = Col(absl::StrCat("sum_", spec.sum_custom_field()), "decimal");
  }

  const int text_columns =
      static_cast<int>(dim_sql.size() + def.fixed_text.size()) + (def.per_currency ? 1 : 0);
  std::vector<int64_t> totals(def.raw_names.size(), 0);
  DecimalSum number_total;
  DecimalSum money_total;
  std::set<std::string> currencies;
  for (int i = 0; i < rows.rows(); ++i) {
    v1::Row* row = report.add_rows();
    for (int c = 0; c < text_columns; ++c) row->add_cells(rows.String(i, c));
    if (def.per_currency) currencies.insert(rows.String(i, text_columns - 1));
    std::vector<int64_t> raw;
    for (size_t m = 0; m < def.raw_names.size(); ++m) {
      raw.push_back(rows.IsNull(i, text_columns + m) ? 0 : rows.Int(i, text_columns + m));
      totals[m] += raw.back();
    }
    for (std::string& cell : def.format(raw, false)) row->add_cells(std::move(cell));
    if (!measure.empty()) {
      const int at = text_columns + static_cast<int>(def.raw_names.size());
      std::string cell;
      if (!rows.IsNull(i, at)) {
        cell = rows.String(i, at);
        RETURN_IF_ERROR(number_total.Add(cell));
      } else if (!rows.IsNull(i, at + 1)) {
        cell = rows.String(i, at + 1);
        RETURN_IF_ERROR(money_total.Add(cell));
      }
      row->add_cells(std::move(cell));
    }
  }
  // Totals: sums of the raw integers, ratios from those sums. A median does not add up.
  for (int c = 0; c < text_columns; ++c) {
    report.mutable_totals()->add_cells(
        c == 0 ? "total"
               : (def.per_currency && c == text_columns - 1 && currencies.size() == 1
                      ? *currencies.begin()
                      : ""));
  }
  if (spec.kind() == v1::REPORT_KIND_STAGE_CONVERSION) {
    // A deal enters several stages: per-stage counts do not add up to a total. No totals.
    for (size_t m = 0; m < def.metrics.size(); ++m) report.mutable_totals()->add_cells("");
  } else {
    for (std::string& cell : def.format(totals, currencies.size() > 1)) {
      report.mutable_totals()->add_cells(std::move(cell));
    }
  }
  if (!measure.empty()) {
    // Numbers add up across rows; money in several currencies does not.
    const std::string numbers = number_total.Text();
    report.mutable_totals()->add_cells(!numbers.empty()        ? numbers
                                       : currencies.size() > 1 ? ""
                                                               : money_total.Text());
  }
  for (int i = 0; i < progress.rows(); ++i) {
    v1::Freshness* f = report.add_freshness();
    f->set_source(progress.String(i, 0));
    f->set_position(progress.Int(i, 1));
    if (!progress.IsNull(i, 2)) db::SetTimestamp(f->mutable_event_time(), progress.Int(i, 2));
  }
  db::SetTime(report.mutable_generate_time(), now);
  return report;
}

}  // namespace crm::reporting
