// The reporting service against a real PostgreSQL: a generated history (tests/reporting/
// reporting_dataset.h) is fed through the event handlers exactly as the consumers would apply it,
// some events twice; every report, for every period kind, must equal figures this test computes
// on its own from the generated records. Then: a rebuild reproduces them, a repeated event counts
// once, tenants stay apart, CSV and SVG are right, schedules run once per period.
#include <expat.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/db/migrations.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/ids/uuid.h"
#include "common/server/server.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/pg_test_db.h"
#include "common/testing/status_matchers.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "services/reporting/read_model.h"
#include "services/reporting/report_engine.h"
#include "services/reporting/report_files.h"
#include "services/reporting/reporting_service.h"
#include "services/reporting/schedules.h"
#include "tests/reporting/reporting_dataset.h"

extern const std::vector<crm::EmbeddedFile>& ReportingMigrations();
extern const std::vector<crm::EmbeddedFile>& OutboxMigrations();

namespace crm::reporting {
namespace {

using testing::Dataset;

// Rows keyed by their text cells (joined), valued by their metric cells.
using Rows = std::map<std::string, std::vector<std::string>>;

std::string Key(const std::vector<std::string>& parts) { return absl::StrJoin(parts, " | "); }

// The same definitions the reports document: percentages with two decimals and averages with
// one, rounded half up; integer division for the average deal size.
std::string Percent(int64_t num, int64_t den) {
  if (den == 0) return "";
  const int64_t hundredths = (num * 20000 + den) / (2 * den);
  return absl::StrFormat("%d.%02d", hundredths / 100, hundredths % 100);
}
std::string Tenths(int64_t value, int64_t den) {
  if (den == 0) return "";
  const int64_t tenths = (value * 20 + den) / (2 * den);
  return absl::StrFormat("%d.%d", tenths / 10, tenths % 10);
}
std::string I(int64_t v) { return absl::StrCat(v); }
std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

struct Window {
  absl::CivilDay from, to;  // local days
  absl::Time from_t, to_t;  // their instants
  bool Contains(absl::Time t) const { return t >= from_t && t < to_t; }
  bool ContainsDay(absl::CivilDay d) const { return d >= from && d < to; }
};

class ReportingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto database = crm::testing::TestDatabase::Create();
    ASSERT_OK(database.status());
    database_ = new crm::testing::TestDatabase(std::move(*database));
    const std::string conninfo = database_->ConnInfo("reporting");
    std::vector<EmbeddedFile> migrations = ReportingMigrations();
    migrations.insert(migrations.end(), OutboxMigrations().begin(), OutboxMigrations().end());
    ASSERT_OK(db::Migrate(conninfo, "reporting", migrations));
    db::PoolOptions pool_options;
    pool_options.conninfo = conninfo;
    pool_ = new db::Pool(pool_options, nullptr);
    outbox_ = new events::Outbox("reporting", nullptr, nullptr);
    engine_ = new ReportEngine(*pool_);
    data_ = new Dataset(testing::Generate("acme-" + ids::NewUuidV7().substr(28), 20261126));
    Feed(*data_);
  }
  static void TearDownTestSuite() {
    delete data_;
    delete engine_;
    delete outbox_;
    delete pool_;
    delete database_;
  }

  // Applies every event as the consumers would: one transaction each, in the event's tenant.
  static void Feed(const Dataset& data) {
    const std::vector<std::pair<const std::vector<common::v1::Event>*, events::EventHandler>>
        streams = {{&data.contacts_events, ContactsEvents().handler()},
                   {&data.pipeline_events, PipelineEvents().handler()},
                   {&data.tasks_events, TasksEvents().handler()}};
    for (const auto& [events, handler] : streams) {
      for (const common::v1::Event& event : *events) {
        auto tx = db::Transaction::Begin(*pool_, event.tenant(), absl::Now() + absl::Seconds(30));
        ASSERT_OK(tx.status());
        ASSERT_OK(handler(*tx, event)) << event.event_type();
        ASSERT_OK(tx->Commit());
      }
    }
  }

  static absl::TimeZone Zone() {
    absl::TimeZone zone;
    absl::LoadTimeZone(data_->time_zone, &zone);
    return zone;
  }

  static Window WindowOf(const v1::Report& report) {
    Window w;
    EXPECT_TRUE(absl::ParseCivilTime(report.from_date(), &w.from));
    EXPECT_TRUE(absl::ParseCivilTime(report.to_date(), &w.to));
    w.from_t = absl::FromCivil(w.from, Zone());
    w.to_t = absl::FromCivil(w.to, Zone());
    return w;
  }

  static v1::Report Run(const v1::ReportSpec& spec) {
    auto report = engine_->Run(data_->tenant, spec, Now(), absl::Now() + absl::Seconds(30));
    EXPECT_TRUE(report.ok()) << report.status();
    return report.value_or(v1::Report());
  }
  static absl::Time Now() {
    return absl::FromCivil(absl::CivilSecond(2026, 11, 26, 12, 0, 0), absl::UTCTimeZone());
  }

  static Rows ActualRows(const v1::Report& report, std::vector<std::string>* totals) {
    int text = 0;
    while (text < report.columns_size() && report.columns(text).type() == "text") ++text;
    Rows rows;
    for (const v1::Row& row : report.rows()) {
      std::vector<std::string> cells(row.cells().begin(), row.cells().end());
      const std::string key = Key(std::vector<std::string>(cells.begin(), cells.begin() + text));
      EXPECT_EQ(rows.count(key), 0u) << "row twice: " << key;
      rows[key] = std::vector<std::string>(cells.begin() + text, cells.end());
    }
    if (totals != nullptr) {
      totals->assign(report.totals().cells().begin() + text, report.totals().cells().end());
    }
    return rows;
  }

  static std::string MonthOf(absl::CivilDay day) {
    return DayText(absl::CivilDay(absl::CivilMonth(day)));
  }

  static crm::testing::TestDatabase* database_;
  static db::Pool* pool_;
  static events::Outbox* outbox_;
  static ReportEngine* engine_;
  static Dataset* data_;
};

crm::testing::TestDatabase* ReportingTest::database_ = nullptr;
db::Pool* ReportingTest::pool_ = nullptr;
events::Outbox* ReportingTest::outbox_ = nullptr;
ReportEngine* ReportingTest::engine_ = nullptr;
Dataset* ReportingTest::data_ = nullptr;

// Raw sums per row key, with the per-currency flag for totals.
struct Expected {
  std::map<std::string, std::vector<int64_t>> raw;
  std::set<std::string> currencies;
  void Add(const std::string& key, const std::vector<int64_t>& values) {
    auto& sums = raw[key];
    if (sums.empty()) sums.assign(values.size(), 0);
    for (size_t i = 0; i < values.size(); ++i) sums[i] += values[i];
  }
};

// Every period kind, with anchors across the year boundary, the DST change and the fiscal year.
std::vector<v1::ReportSpec> Periods() {
  std::vector<v1::ReportSpec> specs;
  auto add = [&](v1::PeriodKind kind, const std::string& anchor) {
    v1::ReportSpec spec;
    spec.set_period(kind);
    spec.set_anchor_date(anchor);
    specs.push_back(spec);
  };
  add(v1::PERIOD_KIND_WEEK, "2025-12-31");  // Monday 2025-12-29 to 2026-01-05
  add(v1::PERIOD_KIND_WEEK, "2026-03-08");  // the week of the spring-forward
  add(v1::PERIOD_KIND_MONTH, "2026-01-15");
  add(v1::PERIOD_KIND_MONTH, "2026-03-20");
  add(v1::PERIOD_KIND_QUARTER, "2025-11-02");
  add(v1::PERIOD_KIND_QUARTER, "2026-02-01");
  add(v1::PERIOD_KIND_YEAR, "2026-06-01");
  add(v1::PERIOD_KIND_YEAR, "2025-06-01");
  add(v1::PERIOD_KIND_FISCAL_QUARTER, "2026-02-01");  // fiscal year starts in April: Jan-Mar
  add(v1::PERIOD_KIND_FISCAL_YEAR, "2026-01-10");     // 2025-04-01 to 2026-04-01
  v1::ReportSpec custom;
  custom.set_period(v1::PERIOD_KIND_CUSTOM);
  custom.set_from_date("2025-12-15");
  custom.set_to_date("2026-03-15");
  specs.push_back(custom);
  return specs;
}

TEST_F(ReportingTest, WonLostMatchesTheDataForEveryPeriod) {
  size_t rows_compared = 0;
  for (v1::ReportSpec spec : Periods()) {
    spec.set_kind(v1::REPORT_KIND_WON_LOST);
    for (bool by_period : {false, true}) {
      spec.clear_group_by();
      if (by_period) spec.add_group_by(v1::DIMENSION_PERIOD);
      spec.add_group_by(v1::DIMENSION_REP);
      const v1::Report report = Run(spec);
      const Window w = WindowOf(report);
      Expected e;
      for (const auto& d : data_->deals) {
        const std::string outcome = d.Outcome(data_->stages);
        if (d.deleted || outcome == "open") continue;
        const absl::CivilDay day = absl::ToCivilDay(*d.close, Zone());
        if (!w.ContainsDay(day)) continue;
        std::vector<std::string> key;
        if (by_period) {
          // The spec's default bucket for its period.
          absl::CivilDay bucket = absl::CivilDay(absl::CivilMonth(day));
          if (spec.period() == v1::PERIOD_KIND_WEEK) bucket = day;
          if (spec.period() == v1::PERIOD_KIND_MONTH) {
            bucket = day - ((static_cast<int>(absl::GetWeekday(day)) + 7 -
                             static_cast<int>(absl::Weekday::monday)) %
                            7);
          }
          if (spec.period() == v1::PERIOD_KIND_CUSTOM)
            bucket = absl::CivilDay(absl::CivilMonth(day));
          key.push_back(DayText(bucket));
        }
        key.push_back(d.owner);
        key.push_back(d.currency);
        const bool won = outcome == "won";
        const int64_t cycle = absl::ToInt64Seconds(*d.close - d.create);
        e.Add(Key(key),
              {won ? 1 : 0, won ? d.amount : 0, won ? 0 : 1, won ? 0 : d.amount, won ? cycle : 0});
        e.currencies.insert(d.currency);
      }
      Rows expected;
      std::vector<int64_t> total(5, 0);
      for (const auto& [key, r] : e.raw) {
        expected[key] = {I(r[0]),
                         I(r[1]),
                         I(r[2]),
                         I(r[3]),
                         Percent(r[0], r[0] + r[2]),
                         r[0] == 0 ? "" : I(r[1] / r[0]),
                         Tenths(r[4], r[0] * 86400)};
        for (size_t i = 0; i < 5; ++i) total[i] += r[i];
      }
      std::vector<std::string> totals;
      EXPECT_EQ(ActualRows(report, &totals), expected) << report.title() << " " << by_period;
      rows_compared += expected.size();
      const bool mixed = e.currencies.size() > 1;
      EXPECT_EQ(totals, (std::vector<std::string>{
                            I(total[0]), mixed ? "" : I(total[1]), I(total[2]),
                            mixed ? "" : I(total[3]), Percent(total[0], total[0] + total[2]),
                            mixed || total[0] == 0 ? "" : I(total[1] / total[0]),
                            Tenths(total[4], total[0] * 86400)}))
          << report.title();
    }
  }
  EXPECT_GT(rows_compared, 150u);  // the data set really exercises the report
}

TEST_F(ReportingTest, PipelineAndForecastMatchTheData) {
  size_t rows_compared = 0;
  for (v1::ReportSpec spec : Periods()) {
    spec.set_kind(v1::REPORT_KIND_PIPELINE_BY_STAGE);
    v1::Report report = Run(spec);
    Window w = WindowOf(report);
    Expected pipeline, forecast;
    for (const auto& d : data_->deals) {
      const std::string outcome = d.Outcome(data_->stages);
      if (d.deleted || !w.ContainsDay(d.expected_close)) continue;
      const auto& stage = data_->stages[d.stage];
      if (outcome == "open") {
        pipeline.Add(Key({stage.name, d.currency}),
                     {1, d.amount, d.amount * stage.probability / 100});
      }
      if (outcome != "lost") {
        const std::string category = outcome == "won" ? "closed" : stage.category;
        const int probability = outcome == "won" ? 100 : stage.probability;
        forecast.Add(Key({MonthOf(d.expected_close), category, d.currency}),
                     {1, d.amount, d.amount * probability / 100});
      }
    }
    auto format = [](const Expected& e) {
      Rows rows;
      for (const auto& [key, r] : e.raw) rows[key] = {I(r[0]), I(r[1]), I(r[2])};
      return rows;
    };
    EXPECT_EQ(ActualRows(report, nullptr), format(pipeline)) << report.title();
    spec.set_kind(v1::REPORT_KIND_FORECAST);
    report = Run(spec);
    EXPECT_EQ(ActualRows(report, nullptr), format(forecast)) << report.title();
    rows_compared += pipeline.raw.size() + forecast.raw.size();
  }
  EXPECT_GT(rows_compared, 150u);
}

TEST_F(ReportingTest, DealReportsGroupByAndSumCustomFields) {
  size_t rows_compared = 0;
  for (v1::ReportSpec spec : Periods()) {
    spec.set_kind(v1::REPORT_KIND_PIPELINE_BY_STAGE);
    spec.add_group_by(v1::DIMENSION_CUSTOM_FIELD);
    spec.set_custom_field("tier");
    spec.set_sum_custom_field("arr");
    const v1::Report by_tier = Run(spec);
    spec.set_sum_custom_field("budget");
    const v1::Report budgets = Run(spec);
    const Window w = WindowOf(by_tier);
    // Per (tier, currency): deals, amount, weighted, arr in hundredths, budget in the row's
    // currency (-1: none).
    Expected expected;
    int64_t arr_total = 0;
    for (const auto& d : data_->deals) {
      if (d.deleted || !w.ContainsDay(d.expected_close) || d.Outcome(data_->stages) != "open") {
        continue;
      }
      const auto& stage = data_->stages[d.stage];
      const bool same_currency = d.BudgetCurrency() == d.currency;
      expected.Add(Key({d.Tier().empty() ? "none" : d.Tier(), d.currency}),
                   {1, d.amount, d.amount * stage.probability / 100, d.ArrHundredths(),
                    same_currency ? d.BudgetMinor() : 0, same_currency ? 1 : 0});
      arr_total += d.ArrHundredths();
      expected.currencies.insert(d.currency);
    }
    auto hundredths = [](int64_t h) { return absl::StrFormat("%d.%02d", h / 100, h % 100); };
    Rows arr_rows, budget_rows;
    for (const auto& [key, r] : expected.raw) {
      arr_rows[key] = {I(r[0]), I(r[1]), I(r[2]), hundredths(r[3])};
      budget_rows[key] = {I(r[0]), I(r[1]), I(r[2]), r[5] > 0 ? I(r[4]) : ""};
    }
    ASSERT_EQ(by_tier.columns(0).name(), "custom_fields.tier");
    ASSERT_EQ(by_tier.columns(by_tier.columns_size() - 1).name(), "sum_arr");
    EXPECT_EQ(by_tier.columns(by_tier.columns_size() - 1).type(), "decimal");
    std::vector<std::string> totals;
    EXPECT_EQ(ActualRows(by_tier, &totals), arr_rows) << by_tier.title();
    if (!expected.raw.empty()) {
      // Numbers add up across currencies; money in several currencies does not.
      EXPECT_EQ(totals.back(), hundredths(arr_total)) << by_tier.title();
      EXPECT_EQ(ActualRows(budgets, &totals), budget_rows) << budgets.title();
      if (expected.currencies.size() > 1) {
        EXPECT_EQ(totals.back(), "") << budgets.title();
      }
    }
    rows_compared += expected.raw.size();
  }
  EXPECT_GT(rows_compared, 30u);

  // Where custom fields cannot go, and keys that are not keys: named errors.
  v1::ReportSpec spec;
  spec.set_kind(v1::REPORT_KIND_PIPELINE_BY_STAGE);
  spec.set_period(v1::PERIOD_KIND_YEAR);
  spec.add_group_by(v1::DIMENSION_CUSTOM_FIELD);
  auto error = [&](const v1::ReportSpec& bad) {
    absl::Status status =
        engine_->Run(data_->tenant, bad, Now(), absl::Now() + absl::Seconds(5)).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    return std::string(status.message());
  };
  EXPECT_THAT(error(spec), ::testing::HasSubstr("spec.custom_field"));
  spec.set_custom_field("tier' OR '1");
  EXPECT_THAT(error(spec), ::testing::HasSubstr("spec.custom_field"));
  spec.set_custom_field("tier");
  spec.set_sum_custom_field("Arr");
  EXPECT_THAT(error(spec), ::testing::HasSubstr("spec.sum_custom_field"));
  spec.clear_sum_custom_field();
  spec.set_kind(v1::REPORT_KIND_WON_LOST);
  EXPECT_THAT(error(spec), ::testing::HasSubstr("spec.group_by[0]"));
  spec.clear_group_by();
  spec.set_sum_custom_field("arr");
  EXPECT_THAT(error(spec), ::testing::HasSubstr("no custom fields"));
}

TEST_F(ReportingTest, StageConversionMatchesTheData) {
  size_t rows_compared = 0;
  for (v1::ReportSpec spec : Periods()) {
    spec.set_kind(v1::REPORT_KIND_STAGE_CONVERSION);
    const v1::Report report = Run(spec);
    const Window w = WindowOf(report);
    std::map<std::string, std::set<std::string>> entered, reached;
    std::map<std::string, std::vector<int64_t>> durations;
    for (const auto& d : data_->deals) {
      if (d.deleted) continue;
      for (const auto& entry : d.entries) {
        if (!w.Contains(entry.enter)) continue;
        const std::string& name = data_->stages[entry.stage].name;
        entered[name].insert(d.id);
        for (const auto& later : d.entries) {
          if (later.enter >= entry.enter && data_->stages[later.stage].kind == "won") {
            reached[name].insert(d.id);
          }
        }
        if (entry.leave.has_value()) {
          durations[name].push_back(absl::ToInt64Seconds(*entry.leave - entry.enter));
        }
      }
    }
    Rows expected;
    for (const auto& [name, deals] : entered) {
      const int64_t in = static_cast<int64_t>(deals.size());
      const int64_t out = static_cast<int64_t>(reached[name].size());
      std::string median;
      auto& times = durations[name];
      if (!times.empty()) {
        std::sort(times.begin(), times.end());
        // percentile_disc(0.5): the first value whose cumulative share reaches one half.
        median = Tenths(times[(times.size() + 1) / 2 - 1], 3600);
      }
      expected[name] = {I(in), I(out), Percent(out, in), median};
    }
    EXPECT_EQ(ActualRows(report, nullptr), expected) << report.title();
    rows_compared += expected.size();
  }
  EXPECT_GT(rows_compared, 50u);
}

TEST_F(ReportingTest, ActivitiesTasksAndLeadsMatchTheData) {
  size_t rows_compared = 0;
  for (v1::ReportSpec spec : Periods()) {
    spec.set_kind(v1::REPORT_KIND_ACTIVITIES_BY_REP);
    v1::Report report = Run(spec);
    const Window w = WindowOf(report);
    Expected activities;
    for (const auto& a : data_->activities) {
      if (!w.Contains(a.when)) continue;
      activities.Add(a.author,
                     {a.kind == "call", a.kind == "email", a.kind == "meeting", a.kind == "note"});
    }
    Rows expected;
    for (const auto& [key, r] : activities.raw) {
      expected[key] = {I(r[0]), I(r[1]), I(r[2]), I(r[3]), I(r[0] + r[1] + r[2] + r[3])};
    }
    EXPECT_EQ(ActualRows(report, nullptr), expected) << report.title();

    spec.set_kind(v1::REPORT_KIND_TASKS_BY_REP);
    report = Run(spec);
    Expected tasks;
    const absl::Time cutoff = std::min(w.to_t, Now());
    for (const auto& t : data_->tasks) {
      if (t.deleted || t.create >= w.to_t) continue;
      const bool overdue = t.status != "cancelled" && t.due.has_value() && *t.due < cutoff &&
                           t.create < cutoff && (!t.complete.has_value() || *t.complete >= cutoff);
      tasks.Add(t.assignee,
                {w.Contains(t.create),
                 t.status == "done" && t.complete.has_value() && w.Contains(*t.complete), overdue});
    }
    expected.clear();
    for (const auto& [key, r] : tasks.raw) expected[key] = {I(r[0]), I(r[1]), I(r[2])};
    EXPECT_EQ(ActualRows(report, nullptr), expected) << report.title();

    spec.set_kind(v1::REPORT_KIND_LEADS_BY_SOURCE);
    report = Run(spec);
    Expected leads;
    for (const auto& c : data_->contacts) {
      if (c.deleted || !w.Contains(c.create)) continue;
      leads.Add(c.source, {1, c.lifecycle == "customer"});
    }
    expected.clear();
    for (const auto& [key, r] : leads.raw) expected[key] = {I(r[0]), I(r[1]), Percent(r[1], r[0])};
    EXPECT_EQ(ActualRows(report, nullptr), expected) << report.title();
    rows_compared += activities.raw.size() + tasks.raw.size() + leads.raw.size();
  }
  EXPECT_GT(rows_compared, 100u);
}

TEST_F(ReportingTest, ARebuildFromPositionZeroReproducesEveryFigure) {
  std::vector<std::string> before;
  for (int kind = 1; kind <= 7; ++kind) {
    for (v1::ReportSpec spec : Periods()) {
      spec.set_kind(static_cast<v1::ReportKind>(kind));
      v1::Report report = Run(spec);
      report.clear_freshness();
      report.clear_generate_time();
      before.push_back(report.SerializeAsString());
    }
  }
  ASSERT_OK(
      ResetReadModels(*pool_, {"reporting.contacts", "reporting.pipeline", "reporting.tasks"}));
  EXPECT_EQ(Run([] {
              v1::ReportSpec s;
              s.set_kind(v1::REPORT_KIND_WON_LOST);
              s.set_period(v1::PERIOD_KIND_YEAR);
              s.set_anchor_date("2026-01-01");
              return s;
            }())
                .rows_size(),
            0);
  Feed(*data_);
  size_t i = 0;
  for (int kind = 1; kind <= 7; ++kind) {
    for (v1::ReportSpec spec : Periods()) {
      spec.set_kind(static_cast<v1::ReportKind>(kind));
      v1::Report report = Run(spec);
      report.clear_freshness();
      report.clear_generate_time();
      EXPECT_EQ(report.SerializeAsString(), before[i++]) << report.title();
    }
  }
}

TEST_F(ReportingTest, ADealEventArrivingTwiceCountsOnce) {
  v1::ReportSpec spec;
  spec.set_kind(v1::REPORT_KIND_WON_LOST);
  spec.set_period(v1::PERIOD_KIND_YEAR);
  spec.set_anchor_date("2026-01-01");
  const v1::Report first = Run(spec);
  ASSERT_GT(first.rows_size(), 0);
  const std::string before = first.SerializeAsString();
  // The last won move of the generated data, applied again (and once more out of order).
  const common::v1::Event* last_won = nullptr;
  for (const auto& event : data_->pipeline_events) {
    if (event.event_type() == "crm.pipeline.v1.DealMoved") last_won = &event;
  }
  ASSERT_NE(last_won, nullptr);
  for (int i = 0; i < 2; ++i) {
    auto tx = db::Transaction::Begin(*pool_, data_->tenant, absl::Now() + absl::Seconds(10));
    ASSERT_OK(tx.status());
    ASSERT_OK(PipelineEvents().handler()(*tx, *last_won));
    ASSERT_OK(tx->Commit());
  }
  v1::Report again = Run(spec);
  again.clear_generate_time();
  v1::Report expected = first;
  expected.clear_generate_time();
  EXPECT_EQ(again.SerializeAsString(), expected.SerializeAsString());
}

TEST_F(ReportingTest, TenantsSeeOnlyTheirOwnFigures) {
  const Dataset other = testing::Generate("other-" + ids::NewUuidV7().substr(28), 7);
  Feed(other);
  v1::ReportSpec spec;
  spec.set_kind(v1::REPORT_KIND_WON_LOST);
  spec.set_period(v1::PERIOD_KIND_YEAR);
  spec.set_anchor_date("2026-01-01");
  auto mine = engine_->Run(data_->tenant, spec, Now(), absl::Now() + absl::Seconds(30));
  auto theirs = engine_->Run(other.tenant, spec, Now(), absl::Now() + absl::Seconds(30));
  ASSERT_OK(mine.status());
  ASSERT_OK(theirs.status());
  EXPECT_NE(mine->totals().SerializeAsString(), theirs->totals().SerializeAsString());
  int64_t won = 0;
  for (const auto& d : other.deals) {
    if (!d.deleted && d.Outcome(other.stages) == "won" &&
        absl::CivilYear(absl::ToCivilDay(*d.close, Zone())) == absl::CivilYear(2026)) {
      ++won;
    }
  }
  EXPECT_EQ(theirs->totals().cells(2), I(won));
  // A tenant nobody fed sees nothing at all.
  auto nobody = engine_->Run("nobody", spec, Now(), absl::Now() + absl::Seconds(30));
  ASSERT_OK(nobody.status());
  EXPECT_EQ(nobody->rows_size(), 0);
}

TEST_F(ReportingTest, BadSpecsNameTheField) {
  v1::ReportSpec spec;
  spec.set_period(v1::PERIOD_KIND_MONTH);
  EXPECT_THAT(engine_->Run(data_->tenant, spec, Now(), absl::Now() + absl::Seconds(5)).status(),
              crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  spec.set_kind(v1::REPORT_KIND_TASKS_BY_REP);
  spec.add_group_by(v1::DIMENSION_STAGE);
  auto status = engine_->Run(data_->tenant, spec, Now(), absl::Now() + absl::Seconds(5)).status();
  EXPECT_THAT(status, crm::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("spec.group_by[0]"));
}

// Collects the bars of an SVG while checking it is well-formed XML.
struct SvgBars {
  std::vector<std::map<std::string, std::string>> bars;
  bool has_title = false;
  std::string text;
};

TEST_F(ReportingTest, CsvAndSvgCarryTheReport) {
  v1::ReportSpec spec;
  spec.set_kind(v1::REPORT_KIND_WON_LOST);
  spec.set_period(v1::PERIOD_KIND_YEAR);
  spec.set_anchor_date("2026-01-01");
  const v1::Report report = Run(spec);
  const std::string csv = ReportCsv(report);
  EXPECT_THAT(csv, ::testing::StartsWith(
                       "rep,currency,won,won_amount,lost,lost_amount,win_rate,avg_deal_size,"
                       "avg_sales_cycle\r\n"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), report.rows_size() + 2);

  for (v1::ChartKind chart : {v1::CHART_KIND_BAR, v1::CHART_KIND_STACKED_BAR, v1::CHART_KIND_LINE,
                              v1::CHART_KIND_FUNNEL}) {
    auto svg = ReportSvg(report, chart);
    ASSERT_OK(svg.status());
    SvgBars parsed;
    XML_Parser parser = XML_ParserCreate("UTF-8");
    XML_SetUserData(parser, &parsed);
    XML_SetElementHandler(
        parser,
        [](void* data, const XML_Char* name, const XML_Char** attributes) {
          auto* out = static_cast<SvgBars*>(data);
          std::map<std::string, std::string> attrs;
          for (int i = 0; attributes[i] != nullptr; i += 2)
            attrs[attributes[i]] = attributes[i + 1];
          if (attrs.count("data-value") > 0) out->bars.push_back(attrs);
          (void)name;
        },
        [](void*, const XML_Char*) {});
    XML_SetCharacterDataHandler(parser, [](void* data, const XML_Char* s, int len) {
      static_cast<SvgBars*>(data)->text.append(s, len);
    });
    ASSERT_EQ(XML_Parse(parser, svg->data(), static_cast<int>(svg->size()), 1), XML_STATUS_OK)
        << XML_ErrorString(XML_GetErrorCode(parser));
    XML_ParserFree(parser);
    EXPECT_THAT(parsed.text, ::testing::HasSubstr(report.title()));
    EXPECT_THAT(parsed.text, ::testing::HasSubstr("America/New_York"));
    // One bar per rep in the chart's currency, each with the report's exact won amount.
    const std::string currency = report.rows(0).cells(1);
    std::map<std::string, std::string> expected, drawn;
    for (const v1::Row& row : report.rows()) {
      if (row.cells(1) == currency) expected[row.cells(0)] = row.cells(3);
    }
    for (const auto& bar : parsed.bars) drawn[bar.at("data-category")] = bar.at("data-value");
    EXPECT_EQ(drawn, expected) << v1::ChartKind_Name(chart);
  }
}

TEST_F(ReportingTest, ATenantHasAtMostAHundredSchedulesListedInPages) {
  ScheduleStore schedules(*pool_, *engine_);
  const std::string tenant = "capped-" + ids::NewUuidV7().substr(24);
  v1::ReportSchedule schedule;
  schedule.mutable_spec()->set_kind(v1::REPORT_KIND_LEADS_BY_SOURCE);
  schedule.mutable_spec()->set_period(v1::PERIOD_KIND_WEEK);
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(schedules.Create(tenant, schedule, Now(), absl::Now() + absl::Seconds(10)).status());
  }
  EXPECT_THAT(schedules.Create(tenant, schedule, Now(), absl::Now() + absl::Seconds(10)),
              crm::testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  auto first = schedules.List(tenant, 0, 60, absl::Now() + absl::Seconds(10));
  auto second = schedules.List(tenant, 60, 60, absl::Now() + absl::Seconds(10));
  ASSERT_OK(first.status());
  ASSERT_OK(second.status());
  EXPECT_EQ(first->size(), 60u);
  EXPECT_EQ(second->size(), 40u);
  std::set<std::string> names;
  for (const auto* page : {&*first, &*second}) {
    for (const auto& s : *page) names.insert(s.name());
  }
  EXPECT_EQ(names.size(), 100u);
  // Gone again, so the other tests' schedulers find only their own schedules due.
  for (const std::string& name : names) {
    ASSERT_OK(schedules.Delete(tenant, name.substr(name.rfind('/') + 1),
                               absl::Now() + absl::Seconds(10)));
  }
}

TEST_F(ReportingTest, SchedulesRunOncePerPeriodWithSeveralReplicas) {
  ScheduleStore schedules(*pool_, *engine_);
  v1::ReportSchedule schedule;
  schedule.mutable_spec()->set_kind(v1::REPORT_KIND_WON_LOST);
  schedule.mutable_spec()->set_period(v1::PERIOD_KIND_MONTH);
  const absl::Time created_at = Now();
  auto created =
      schedules.Create(data_->tenant, schedule, created_at, absl::Now() + absl::Seconds(10));
  ASSERT_OK(created.status());
  // Its first run is due when November ends in New York.
  EXPECT_EQ(created->next_run_time().seconds(),
            absl::ToUnixSeconds(absl::FromCivil(absl::CivilDay(2026, 12, 1), Zone())));
  ReportScheduler replica_a(*pool_, *engine_, *outbox_, nullptr);
  ReportScheduler replica_b(*pool_, *engine_, *outbox_, nullptr);
  const absl::Time december = absl::FromCivil(absl::CivilSecond(2026, 12, 1, 9, 0, 0), Zone());
  int stored = 0;
  for (int round = 0; round < 3; ++round) {
    for (ReportScheduler* replica : {&replica_a, &replica_b}) {
      auto ran = replica->RunDue(december);
      ASSERT_OK(ran.status());
      stored += *ran;
    }
  }
  EXPECT_EQ(stored, 1);
  const std::string id = created->name().substr(created->name().rfind('/') + 1);
  auto runs = schedules.ListRuns(data_->tenant, id, "", 10, absl::Now() + absl::Seconds(10));
  ASSERT_OK(runs.status());
  ASSERT_EQ(runs->first.size(), 1u);
  EXPECT_EQ(runs->first[0].period_from(), "2026-11-01");
  EXPECT_EQ(runs->first[0].report().from_date(), "2026-11-01");
  // January: December's run, once.
  const absl::Time january = absl::FromCivil(absl::CivilSecond(2027, 1, 1, 0, 30, 0), Zone());
  EXPECT_EQ(*replica_b.RunDue(january) + *replica_a.RunDue(january), 1);
}

// Last, as it changes the shared tenant's time zone (and puts it back).
TEST_F(ReportingTest, ATimeZoneChangeRebucketsTheRollupsOfExistingDeals) {
  auto set_zone = [&](const std::string& zone) {
    contacts::v1::TenantSettingsChanged changed;
    changed.mutable_settings()->set_time_zone(zone);
    changed.mutable_settings()->set_fiscal_year_start_month(data_->fiscal_start);
    common::v1::Event event;
    event.set_tenant(data_->tenant);
    event.set_event_type("crm.contacts.v1.TenantSettingsChanged");
    event.mutable_payload()->PackFrom(changed);
    auto tx = db::Transaction::Begin(*pool_, data_->tenant, absl::Now() + absl::Seconds(30));
    ASSERT_OK(tx.status());
    ASSERT_OK(ContactsEvents().handler()(*tx, event));
    ASSERT_OK(tx->Commit());
  };
  for (const std::string& zone : {std::string("Pacific/Auckland"), data_->time_zone}) {
    set_zone(zone);
    absl::TimeZone tz;
    ASSERT_TRUE(absl::LoadTimeZone(zone, &tz));
    v1::ReportSpec spec;
    spec.set_kind(v1::REPORT_KIND_WON_LOST);
    spec.set_period(v1::PERIOD_KIND_YEAR);
    spec.set_anchor_date("2026-03-01");
    spec.add_group_by(v1::DIMENSION_PERIOD);
    const v1::Report report = Run(spec);
    EXPECT_EQ(report.time_zone(), zone);
    std::map<std::string, int64_t> expected, actual;
    for (const auto& d : data_->deals) {
      if (d.deleted || d.Outcome(data_->stages) != "won") continue;
      const absl::CivilDay day = absl::ToCivilDay(*d.close, tz);
      if (day.year() != 2026) continue;
      expected[Key({MonthOf(day), d.currency})] += 1;
    }
    for (const v1::Row& row : report.rows()) {
      int64_t won = 0;
      ASSERT_TRUE(absl::SimpleAtoi(row.cells(2), &won));
      if (won > 0) actual[Key({row.cells(0), row.cells(1)})] = won;
    }
    EXPECT_EQ(actual, expected) << zone;
  }
}

}  // namespace
}  // namespace crm::reporting
