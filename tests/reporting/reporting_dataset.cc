#include "tests/reporting/reporting_dataset.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/ids/uuid.h"
#include "crm/contacts/v1/contacts_events.pb.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "crm/tasks/v1/tasks_events.pb.h"

namespace crm::reporting::testing {
namespace {

namespace cv1 = crm::contacts::v1;
namespace pv1 = crm::pipeline::v1;
namespace tv1 = crm::tasks::v1;
using google::protobuf::util::TimeUtil;

const char* kReps[] = {"alice", "bob", "carol", "dave"};
const char* kSources[] = {"paid_ads", "referral", "website", "event", ""};

google::protobuf::Timestamp Ts(absl::Time t) {
  return TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

class Builder {
 public:
  Builder(Dataset& data, unsigned seed) : data_(data), random_(seed) {}

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(random_);
  }
  double Chance() { return std::uniform_real_distribution<double>(0, 1)(random_); }
  // Whole seconds, so microsecond rounding never moves a figure.
  absl::Time Between(absl::Time from, absl::Duration span) {
    return from + absl::Seconds(Uniform(0, absl::ToInt64Seconds(span)));
  }

  void Add(std::vector<crm::common::v1::Event>& stream, const google::protobuf::Message& payload,
           absl::Time when) {
    crm::common::v1::Event event;
    event.set_event_id(ids::NewUuidV7());
    event.set_tenant(data_.tenant);
    event.set_event_type(std::string(payload.GetDescriptor()->full_name()));
    *event.mutable_occurred_time() = Ts(when);
    event.mutable_payload()->PackFrom(payload);
    stream.push_back(std::move(event));
  }

  pv1::Deal DealProto(const Deal& d, int version) {
    pv1::Deal p;
    p.set_name("deals/" + d.id);
    p.set_owner(d.owner);
    p.mutable_amount()->set_amount_minor(d.amount);
    p.mutable_amount()->set_currency_code(d.currency);
    p.set_pipeline("pipelines/" + pipeline_id_);
    p.set_stage(data_.stages[d.stage].id);
    p.set_probability_percent(data_.stages[d.stage].probability);
    p.set_lead_source(d.source);
    p.set_expected_close_date(DayText(d.expected_close));
    *p.mutable_create_time() = Ts(d.create);
    if (d.close.has_value()) *p.mutable_close_time() = Ts(*d.close);
    p.set_etag(absl::StrCat(version));
    auto& values = *p.mutable_custom_fields();
    if (!d.Tier().empty()) values["tier"].set_option(d.Tier());
    values["arr"].set_number(
        absl::StrFormat("%d.%02d", d.ArrHundredths() / 100, d.ArrHundredths() % 100));
    values["budget"].mutable_money()->set_currency_code(d.BudgetCurrency());
    values["budget"].mutable_money()->set_amount_minor(d.BudgetMinor());
    return p;
  }

  void Pipeline() {
    pipeline_id_ = ids::NewUuidV7();
    const std::vector<std::tuple<const char*, int, const char*, const char*>> stages = {
        {"Prospecting", 10, "pipeline", "open"},
        {"Qualification", 10, "pipeline", "open"},
        {"Needs Analysis", 20, "pipeline", "open"},
        {"Value Proposition", 50, "best_case", "open"},
        {"Id. Decision Makers", 60, "best_case", "open"},
        {"Proposal/Price Quote", 75, "commit", "open"},
        {"Negotiation/Review", 90, "commit", "open"},
        {"Closed Won", 100, "closed", "won"},
        {"Closed Lost", 0, "omitted", "lost"}};
    pv1::PipelineChanged changed;
    changed.mutable_pipeline()->set_name("pipelines/" + pipeline_id_);
    for (const auto& [name, probability, category, kind] : stages) {
      Stage s{ids::NewUuidV7(), name, kind, category, probability};
      data_.stages.push_back(s);
      pv1::Stage* p = changed.mutable_pipeline()->add_stages();
      p->set_id(s.id);
      p->set_display_name(s.name);
      p->set_probability_percent(probability);
      pv1::ForecastCategory c = pv1::FORECAST_CATEGORY_UNSPECIFIED;
      pv1::ForecastCategory_Parse(
          absl::StrCat("FORECAST_CATEGORY_", absl::AsciiStrToUpper(category)), &c);
      p->set_forecast_category(c);
      pv1::StageKind k = pv1::STAGE_KIND_UNSPECIFIED;
      pv1::StageKind_Parse(absl::StrCat("STAGE_KIND_", absl::AsciiStrToUpper(kind)), &k);
      p->set_kind(k);
    }
    Add(data_.pipeline_events, changed, absl::FromUnixSeconds(0));
  }

  void Deals(absl::Time start, int count) {
    const absl::TimeZone zone = Zone();
    for (int i = 0; i < count; ++i) {
      Deal d;
      d.id = ids::NewUuidV7();
      d.owner = kReps[Uniform(0, 3)];
      d.currency = Chance() < 0.2 ? "EUR" : "USD";
      d.source = kSources[Uniform(0, 4)];
      d.amount = Uniform(1000, 500000);
      d.create = Between(start, absl::Hours(24 * 180));
      d.expected_close = absl::ToCivilDay(d.create, zone) + Uniform(0, 120);
      int version = 1;
      d.entries.push_back({0, d.create, std::nullopt});
      pv1::DealCreated created;
      *created.mutable_deal() = DealProto(d, version);
      Add(data_.pipeline_events, created, d.create);
      absl::Time t = d.create;
      auto move = [&](int to) {
        t += absl::Seconds(Uniform(3600, 5 * 86400));
        const int from = d.stage;
        d.entries.back().leave = t;
        d.entries.push_back({to, t, std::nullopt});
        d.stage = to;
        if (data_.stages[to].kind != "open") d.close = t;
        pv1::DealMoved moved;
        *moved.mutable_deal() = DealProto(d, ++version);
        moved.mutable_change()->set_deal("deals/" + d.id);
        moved.mutable_change()->set_from_stage(data_.stages[from].id);
        moved.mutable_change()->set_to_stage(data_.stages[to].id);
        *moved.mutable_change()->mutable_change_time() = Ts(t);
        Add(data_.pipeline_events, moved, t);
      };
      const int steps = static_cast<int>(Uniform(0, 6));
      for (int s = 0; s < steps; ++s) move(d.stage + 1);
      const double outcome = Chance();
      if (outcome < 0.45) {
        move(7);
      } else if (outcome < 0.7) {
        move(8);
      }
      if (d.close.has_value() && Chance() < 0.15) {  // changed after closing
        t += absl::Seconds(Uniform(60, 86400));
        d.amount = Uniform(1000, 500000);
        if (Chance() < 0.3) d.owner = kReps[Uniform(0, 3)];
        pv1::DealUpdated updated;
        *updated.mutable_deal() = DealProto(d, ++version);
        Add(data_.pipeline_events, updated, t);
      }
      if (Chance() < 0.04) {
        d.deleted = true;
        pv1::DealDeleted deleted;
        deleted.set_name("deals/" + d.id);
        Add(data_.pipeline_events, deleted, t + absl::Seconds(10));
      }
      data_.deals.push_back(std::move(d));
    }
  }

  void Activities(absl::Time start, int count) {
    const char* kinds[] = {"CALL", "EMAIL", "MEETING", "NOTE"};
    for (int i = 0; i < count; ++i) {
      Activity a;
      a.author = kReps[Uniform(0, 3)];
      a.when = Between(start, absl::Hours(24 * 200));
      const int kind = static_cast<int>(Uniform(0, 3));
      a.kind = absl::AsciiStrToLower(kinds[kind]);
      cv1::ActivityLogged logged;
      logged.mutable_activity()->set_name("activities/" + ids::NewUuidV7());
      logged.mutable_activity()->set_kind(static_cast<cv1::ActivityKind>(kind + 1));
      logged.mutable_activity()->set_author(a.author);
      *logged.mutable_activity()->mutable_occur_time() = Ts(a.when);
      Add(data_.contacts_events, logged, a.when);
      data_.activities.push_back(a);
    }
  }

  void Tasks(absl::Time start, int count) {
    for (int i = 0; i < count; ++i) {
      Task t;
      t.assignee = kReps[Uniform(0, 3)];
      t.status = "open";
      t.create = Between(start, absl::Hours(24 * 200));
      if (Chance() < 0.9) t.due = t.create + absl::Seconds(Uniform(3600, 20 * 86400));
      tv1::Task p;
      p.set_name("tasks/" + ids::NewUuidV7());
      p.set_assignee(t.assignee);
      p.set_status(tv1::TASK_STATUS_OPEN);
      *p.mutable_create_time() = Ts(t.create);
      if (t.due.has_value()) *p.mutable_due_time() = Ts(*t.due);
      p.set_etag("1");
      tv1::TaskCreated created;
      *created.mutable_task() = p;
      Add(data_.tasks_events, created, t.create);
      const double r = Chance();
      absl::Time later = t.create + absl::Seconds(Uniform(600, 25 * 86400));
      if (r < 0.4) {
        t.status = "done";
        t.complete = later;
        p.set_status(tv1::TASK_STATUS_DONE);
        *p.mutable_complete_time() = Ts(later);
      } else if (r < 0.5) {
        t.status = "cancelled";
        p.set_status(tv1::TASK_STATUS_CANCELLED);
      }
      if (r < 0.5) {
        p.set_etag("2");
        tv1::TaskUpdated updated;
        *updated.mutable_task() = p;
        updated.add_changed_fields("status");
        Add(data_.tasks_events, updated, later);
      }
      if (Chance() < 0.05) {
        t.deleted = true;
        tv1::TaskDeleted deleted;
        deleted.set_name(p.name());
        *deleted.mutable_task() = p;
        Add(data_.tasks_events, deleted, later + absl::Seconds(5));
      }
      data_.tasks.push_back(t);
    }
  }

  void Contacts(absl::Time start, int count) {
    const cv1::LeadSource sources[] = {cv1::LEAD_SOURCE_PAID_ADS, cv1::LEAD_SOURCE_REFERRAL,
                                       cv1::LEAD_SOURCE_WEBSITE, cv1::LEAD_SOURCE_UNSPECIFIED};
    for (int i = 0; i < count; ++i) {
      const cv1::LeadSource source = sources[Uniform(0, 3)];
      Contact c;
      c.owner = kReps[Uniform(0, 3)];
      c.lifecycle = "lead";
      c.create = Between(start, absl::Hours(24 * 200));
      c.source = absl::AsciiStrToLower(cv1::LeadSource_Name(source).substr(12));
      if (source == cv1::LEAD_SOURCE_UNSPECIFIED) c.source = "unspecified";
      cv1::Contact p;
      p.set_name("contacts/" + ids::NewUuidV7());
      p.set_owner(c.owner);
      p.set_lead_source(source);
      p.set_lifecycle_stage(Chance() < 0.3 ? cv1::LIFECYCLE_STAGE_CUSTOMER
                                           : cv1::LIFECYCLE_STAGE_LEAD);
      c.lifecycle = p.lifecycle_stage() == cv1::LIFECYCLE_STAGE_CUSTOMER ? "customer" : "lead";
      *p.mutable_create_time() = Ts(c.create);
      p.set_etag("1");
      cv1::ContactCreated created;
      *created.mutable_contact() = p;
      Add(data_.contacts_events, created, c.create);
      if (c.lifecycle == "lead" && Chance() < 0.2) {  // became a customer later
        c.lifecycle = "customer";
        p.set_lifecycle_stage(cv1::LIFECYCLE_STAGE_CUSTOMER);
        p.set_etag("2");
        cv1::ContactUpdated updated;
        *updated.mutable_contact() = p;
        Add(data_.contacts_events, updated, c.create + absl::Hours(30 * 24));
      }
      if (Chance() < 0.03) {
        c.deleted = true;
        cv1::ContactDeleted deleted;
        deleted.set_name(p.name());
        Add(data_.contacts_events, deleted, c.create + absl::Hours(40 * 24));
      }
      data_.contacts.push_back(c);
    }
  }

  absl::TimeZone Zone() {
    absl::TimeZone zone;
    absl::LoadTimeZone(data_.time_zone, &zone);
    return zone;
  }

  // Streams deliver in commit order (time here), each event once; some twice, as a
  // redelivery would.
  void Order(std::vector<crm::common::v1::Event>& stream) {
    std::stable_sort(stream.begin(), stream.end(), [](const auto& a, const auto& b) {
      return TimeUtil::TimestampToMicroseconds(a.occurred_time()) <
             TimeUtil::TimestampToMicroseconds(b.occurred_time());
    });
    std::vector<crm::common::v1::Event> with_repeats;
    for (size_t i = 0; i < stream.size(); ++i) {
      with_repeats.push_back(stream[i]);
      if (i % 7 == 3) with_repeats.push_back(stream[i]);
    }
    stream = std::move(with_repeats);
    for (size_t i = 0; i < stream.size(); ++i) stream[i].set_position(static_cast<int64_t>(i + 1));
  }

 private:
  Dataset& data_;
  std::mt19937_64 random_;
  std::string pipeline_id_;
};

}  // namespace

std::string Deal::Outcome(const std::vector<Stage>& stages) const {
  return stages[stage].kind == "won" ? "won" : stages[stage].kind == "lost" ? "lost" : "open";
}

Dataset Generate(const std::string& tenant, unsigned seed) {
  Dataset data;
  data.tenant = tenant;
  Builder b(data, seed);
  cv1::TenantSettingsChanged settings;
  settings.mutable_settings()->set_time_zone(data.time_zone);
  settings.mutable_settings()->set_fiscal_year_start_month(data.fiscal_start);
  b.Add(data.contacts_events, settings, absl::FromUnixSeconds(0));
  b.Pipeline();
  // From October 2025 into spring 2026: across the new year and the March DST change.
  const absl::Time start =
      absl::FromCivil(absl::CivilSecond(2025, 10, 1, 0, 0, 0), absl::UTCTimeZone());
  b.Deals(start, 320);
  b.Activities(start, 1500);
  b.Tasks(start, 260);
  b.Contacts(start, 300);
  b.Order(data.pipeline_events);
  b.Order(data.contacts_events);
  b.Order(data.tasks_events);
  return data;
}

}  // namespace crm::reporting::testing
