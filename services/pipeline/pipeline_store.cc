#include "services/pipeline/pipeline_store.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/events/record_changes.h"
#include "common/fields/values_json.h"
#include "common/ids/uuid.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "services/pipeline/pipeline_rules.h"

namespace crm::pipeline {
namespace {

using db::MicrosParam;
using db::Param;
using db::Params;
using db::Result;
using db::Transaction;
using events::Draft;

const std::string& DealColumns() {
  static const auto* columns = new std::string(absl::StrCat(
      "id, display_name, contact_id, company_id, owner, amount_minor, currency_code, "
      "coalesce(expected_close_date::text, ''), pipeline_id, stage_id, probability_percent, "
      "probability_overridden, next_step, lead_source, lost_reason, ",
      db::MicrosOf("close_time"), ", contact_missing, version, ", db::MicrosOf("create_time"), ", ",
      db::MicrosOf("update_time"), ", custom_fields"));
  return *columns;
}

v1::Deal DealFromRow(const Result& r, int row) {
  v1::Deal d;
  d.set_name(absl::StrCat(kDealPrefix, r.Text(row, 0)));
  d.set_display_name(r.String(row, 1));
  if (!r.IsNull(row, 2)) d.set_contact(absl::StrCat("contacts/", r.Text(row, 2)));
  if (!r.IsNull(row, 3)) d.set_company(absl::StrCat("companies/", r.Text(row, 3)));
  d.set_owner(r.String(row, 4));
  d.mutable_amount()->set_amount_minor(r.Int(row, 5));
  d.mutable_amount()->set_currency_code(r.String(row, 6));
  d.set_expected_close_date(r.String(row, 7));
  d.set_pipeline(absl::StrCat(kPipelinePrefix, r.Text(row, 8)));
  d.set_stage(r.String(row, 9));
  d.set_probability_percent(static_cast<int32_t>(r.Int(row, 10)));
  d.set_probability_overridden(r.Bool(row, 11));
  d.set_next_step(r.String(row, 12));
  d.set_lead_source(r.String(row, 13));
  d.set_lost_reason(r.String(row, 14));
  if (!r.IsNull(row, 15)) db::SetTimestamp(d.mutable_close_time(), r.Int(row, 15));
  d.set_contact_missing(r.Bool(row, 16));
  d.set_etag(r.String(row, 17));
  db::SetTimestamp(d.mutable_create_time(), r.Int(row, 18));
  db::SetTimestamp(d.mutable_update_time(), r.Int(row, 19));
  // A value the API cannot read back is dropped from the answer rather than failing the read.
  (void)fields::ValuesFromJson(r.Text(row, 20), d.mutable_custom_fields());
  return d;
}

Param OptionalId(const std::string& name, absl::string_view prefix) {
  if (name.empty()) return std::nullopt;
  return name.substr(prefix.size());
}

const v1::Stage* FindStage(const v1::Pipeline& p, absl::string_view id) {
  for (const v1::Stage& s : p.stages()) {
    if (s.id() == id) return &s;
  }
  return nullptr;
}

void QueueInsertStage(Transaction& tx, const std::string& tenant, const std::string& pipeline_id,
                      const v1::Stage& stage, int position) {
  tx.Queue(
      "INSERT INTO pipeline.stages (tenant_id, id, pipeline_id, position, display_name, "
      "probability_percent, forecast_category, kind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {tenant, stage.id(), pipeline_id, absl::StrCat(position), stage.display_name(),
       absl::StrCat(stage.probability_percent()), ForecastCategoryToText(stage.forecast_category()),
       StageKindToText(stage.kind())});
}

// Stages from rows of (id, display_name, probability_percent, forecast_category, kind).
void AddStages(const Result& stages, v1::Pipeline& p) {
  for (int i = 0; i < stages.rows(); ++i) {
    v1::Stage* s = p.add_stages();
    s->set_id(stages.String(i, 0));
    s->set_display_name(stages.String(i, 1));
    s->set_probability_percent(static_cast<int32_t>(stages.Int(i, 2)));
    s->set_forecast_category(ForecastCategoryFromText(stages.Text(i, 3)));
    s->set_kind(StageKindFromText(stages.Text(i, 4)));
  }
}

// The live deal, locked for the rest of the transaction; NOT_FOUND when missing or deleted.
absl::StatusOr<Result> LockDeal(Transaction& tx, const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(Result rows, tx.Exec(absl::StrCat("SELECT ", DealColumns(),
                                                     " FROM pipeline.deals WHERE tenant_id = $1 "
                                                     "AND id = $2::uuid AND delete_time IS NULL "
                                                     "FOR UPDATE"),
                                        {tenant, id}));
  if (rows.rows() == 0) return absl::NotFoundError(absl::StrCat("deals/", id, " not found"));
  return rows;
}

}  // namespace

absl::Status PipelineStore::EnsureDefaultPipeline(Transaction& tx, const std::string& tenant) {
  const v1::Pipeline defaults = DefaultPipeline();
  const std::string id = ids::NewUuidV7();
  ASSIGN_OR_RETURN(Result inserted,
                   tx.Exec("INSERT INTO pipeline.pipelines (tenant_id, id, display_name, "
                           "is_default) VALUES ($1, $2, $3, true) ON CONFLICT (tenant_id) "
                           "WHERE is_default DO NOTHING RETURNING id",
                           {tenant, id, defaults.display_name()}));
  if (inserted.rows() == 0) return absl::OkStatus();  // the tenant has it already
  for (int i = 0; i < defaults.stages_size(); ++i) {
    v1::Stage stage = defaults.stages(i);
    stage.set_id(ids::NewUuidV7());
    QueueInsertStage(tx, tenant, id, stage, i);
  }
  // Consumers (reporting) learn the default stages like any other pipeline's.
  ASSIGN_OR_RETURN(v1::Pipeline created, LoadPipeline(tx, tenant, id, false));
  v1::PipelineChanged event;
  *event.mutable_pipeline() = created;
  outbox_.Append(tx, tenant, Draft<v1::Pipeline>(created.name(), "", db::NowMicros(), event));
  return absl::OkStatus();
}

absl::StatusOr<v1::Pipeline> PipelineStore::LoadPipeline(Transaction& tx, const std::string& tenant,
                                                         const std::string& id, bool lock) {
  ASSIGN_OR_RETURN(
      Result head,
      tx.Exec(absl::StrCat("SELECT id, display_name, is_default, version, ",
                           db::MicrosOf("create_time"), ", ", db::MicrosOf("update_time"),
                           " FROM pipeline.pipelines WHERE tenant_id = $1 AND "
                           "id = $2::uuid",
                           lock ? " FOR UPDATE" : ""),
              {tenant, id}));
  if (head.rows() == 0) return absl::NotFoundError(absl::StrCat("pipelines/", id, " not found"));
  v1::Pipeline p;
  p.set_name(absl::StrCat(kPipelinePrefix, head.Text(0, 0)));
  p.set_display_name(head.String(0, 1));
  p.set_is_default(head.Bool(0, 2));
  p.set_etag(head.String(0, 3));
  db::SetTimestamp(p.mutable_create_time(), head.Int(0, 4));
  db::SetTimestamp(p.mutable_update_time(), head.Int(0, 5));
  ASSIGN_OR_RETURN(Result stages,
                   tx.Exec("SELECT id, display_name, probability_percent, forecast_category, kind "
                           "FROM pipeline.stages WHERE tenant_id = $1 AND pipeline_id = $2::uuid "
                           "ORDER BY position",
                           {tenant, id}));
  AddStages(stages, p);
  return p;
}

absl::StatusOr<std::vector<v1::Pipeline>> PipelineStore::ListPipelines(const std::string& tenant,
                                                                       int64_t offset, int limit,
                                                                       absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  RETURN_IF_ERROR(EnsureDefaultPipeline(tx, tenant));
  ASSIGN_OR_RETURN(Result ids, tx.Exec("SELECT id FROM pipeline.pipelines WHERE tenant_id = $1 "
                                       "ORDER BY is_default DESC, create_time, id "
                                       "LIMIT $2 OFFSET $3",
                                       {tenant, absl::StrCat(limit), absl::StrCat(offset)}));
  std::vector<v1::Pipeline> out;
  for (int i = 0; i < ids.rows(); ++i) {
    ASSIGN_OR_RETURN(v1::Pipeline p, LoadPipeline(tx, tenant, ids.String(i, 0), false));
    out.push_back(std::move(p));
  }
  RETURN_IF_ERROR(tx.Commit());
  return out;
}

absl::StatusOr<v1::Pipeline> PipelineStore::GetPipeline(const std::string& tenant,
                                                        const std::string& id,
                                                        absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(v1::Pipeline p, LoadPipeline(tx, tenant, id, false));
  RETURN_IF_ERROR(tx.Commit());
  return p;
}

absl::StatusOr<v1::Pipeline> PipelineStore::CreatePipeline(const std::string& tenant,
                                                           const v1::Pipeline& pipeline,
                                                           const std::string& request_id,
                                                           const std::string& actor,
                                                           absl::Time deadline) {
  const std::string id = ids::NewUuidV7();
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  RETURN_IF_ERROR(EnsureDefaultPipeline(tx, tenant));
  ASSIGN_OR_RETURN(Result inserted,
                   tx.Exec("INSERT INTO pipeline.pipelines (tenant_id, id, display_name, "
                           "create_request_id, creator) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
                           "(tenant_id, creator, create_request_id) WHERE create_request_id IS "
                           "NOT NULL DO NOTHING RETURNING id",
                           {tenant, id, pipeline.display_name(),
                            request_id.empty() ? Param() : Param(request_id), actor}));
  if (inserted.rows() == 0) {
    ASSIGN_OR_RETURN(Result first, tx.Exec("SELECT id FROM pipeline.pipelines WHERE tenant_id = "
                                           "$1 AND creator = $3 AND create_request_id = $2",
                                           {tenant, request_id, actor}));
    ASSIGN_OR_RETURN(v1::Pipeline existing, LoadPipeline(tx, tenant, first.String(0, 0), false));
    RETURN_IF_ERROR(tx.Commit());
    return existing;
  }
  for (int i = 0; i < pipeline.stages_size(); ++i) {
    v1::Stage stage = pipeline.stages(i);
    stage.set_id(ids::NewUuidV7());
    QueueInsertStage(tx, tenant, id, stage, i);
  }
  ASSIGN_OR_RETURN(v1::Pipeline created, LoadPipeline(tx, tenant, id, false));
  v1::PipelineChanged event;
  *event.mutable_pipeline() = created;
  outbox_.Append(tx, tenant, Draft<v1::Pipeline>(created.name(), actor, db::NowMicros(), event));
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<v1::Pipeline> PipelineStore::UpdatePipeline(const std::string& tenant,
                                                           const std::string& id,
                                                           const std::string& actor,
                                                           const StagePlan& plan,
                                                           absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(v1::Pipeline current, LoadPipeline(tx, tenant, id, /*lock=*/true));
  ASSIGN_OR_RETURN(auto planned, plan(current));
  v1::Pipeline& next = planned.first;
  const absl::Time now = db::NowMicros();
  // New stages get their ids; then every stage is written at its position.
  std::map<std::string, std::string> new_stage_ids;  // display name -> id
  for (v1::Stage& stage : *next.mutable_stages()) {
    if (stage.id().empty()) {
      stage.set_id(ids::NewUuidV7());
      new_stage_ids[stage.display_name()] = stage.id();
    }
  }
  // Temporary names avoid clashes while stages swap names; positions are rewritten anyway.
  for (int i = 0; i < next.stages_size(); ++i) {
    const v1::Stage& stage = next.stages(i);
    if (new_stage_ids.count(stage.display_name()) > 0 &&
        new_stage_ids[stage.display_name()] == stage.id()) {
      QueueInsertStage(tx, tenant, id, stage, i);
    } else {
      tx.Queue(
          "UPDATE pipeline.stages SET position = $3, display_name = $4, "
          "probability_percent = $5, forecast_category = $6, kind = $7 "
          "WHERE tenant_id = $1 AND id = $2::uuid",
          {tenant, stage.id(), absl::StrCat(i), stage.display_name(),
           absl::StrCat(stage.probability_percent()),
           ForecastCategoryToText(stage.forecast_category()), StageKindToText(stage.kind())});
    }
  }
  // Deals of removed stages move to their targets, each with history and an event.
  for (const auto& [removed, target_ref] : planned.second) {
    const std::string target =
        target_ref.rfind("name:", 0) == 0 ? new_stage_ids[target_ref.substr(5)] : target_ref;
    const v1::Stage* from = FindStage(current, removed);
    const v1::Stage* to = FindStage(next, target);
    if (from == nullptr || to == nullptr) {
      return absl::InternalError("stage plan names an unknown stage");
    }
    ASSIGN_OR_RETURN(
        Result moved,
        tx.Exec(
            absl::StrCat("UPDATE pipeline.deals SET stage_id = $3::uuid, "
                         "probability_percent = CASE WHEN probability_overridden THEN "
                         "probability_percent ELSE $4 END, version = version + 1, "
                         "update_time = ",
                         db::TimeParam(5),
                         " WHERE tenant_id = $1 AND "
                         "stage_id = $2::uuid RETURNING ",
                         DealColumns()),
            {tenant, removed, target, absl::StrCat(to->probability_percent()), MicrosParam(now)}));
    for (int i = 0; i < moved.rows(); ++i) {
      RecordMove(tx, tenant, DealFromRow(moved, i), from, *to, actor, now);
    }
    tx.Queue("DELETE FROM pipeline.stages WHERE tenant_id = $1 AND id = $2::uuid",
             {tenant, removed});
  }
  tx.Queue(absl::StrCat("UPDATE pipeline.pipelines SET display_name = $3, version = version + 1, "
                        "update_time = ",
                        db::TimeParam(4),
                        " WHERE tenant_id = $1 AND "
                        "id = $2::uuid"),
           {tenant, id, next.display_name(), MicrosParam(now)});
  ASSIGN_OR_RETURN(v1::Pipeline updated, LoadPipeline(tx, tenant, id, false));
  v1::PipelineChanged event;
  *event.mutable_pipeline() = updated;
  outbox_.Append(tx, tenant, Draft<v1::Pipeline>(updated.name(), actor, now, event));
  RETURN_IF_ERROR(tx.Commit());
  return updated;
}

void PipelineStore::RecordMove(Transaction& tx, const std::string& tenant, const v1::Deal& deal,
                               const v1::Stage* from, const v1::Stage& to, const std::string& actor,
                               absl::Time when) {
  v1::DealMoved event;
  *event.mutable_deal() = deal;
  v1::StageChange* change = event.mutable_change();
  change->set_deal(deal.name());
  if (from != nullptr) change->set_from_stage(from->id());
  change->set_to_stage(to.id());
  change->set_actor(actor);
  db::SetTime(change->mutable_change_time(), when);
  event.set_from_kind(from != nullptr ? from->kind() : v1::STAGE_KIND_UNSPECIFIED);
  event.set_to_kind(to.kind());
  tx.Queue(absl::StrCat("INSERT INTO pipeline.stage_history (tenant_id, id, deal_id, from_stage, "
                        "to_stage, actor, change_time) VALUES ($1, $2, $3::uuid, $4::uuid, "
                        "$5::uuid, $6, ",
                        db::TimeParam(7), ")"),
           {tenant, ids::NewUuidV7(), deal.name().substr(kDealPrefix.size()),
            from != nullptr ? Param(from->id()) : Param(), to.id(), actor, MicrosParam(when)});
  outbox_.Append(tx, tenant, Draft<v1::Deal>(deal.name(), actor, when, event));
}

absl::StatusOr<v1::Deal> PipelineStore::CreateDeal(
    const std::string& tenant, const v1::Deal& deal, const std::string& pipeline_id,
    const std::string& stage_id, const std::string& creator, const std::string& request_id,
    absl::Time deadline, const fields::WriteGuard& guard) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(v1::Deal created, CreateDealIn(tx, tenant, deal, pipeline_id, stage_id, creator,
                                                  request_id, guard));
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<v1::Deal> PipelineStore::CreateDealIn(
    Transaction& tx, const std::string& tenant, const v1::Deal& deal,
    const std::string& pipeline_id, const std::string& stage_id, const std::string& creator,
    const std::string& request_id, const fields::WriteGuard& guard) {
  RETURN_IF_ERROR(EnsureDefaultPipeline(tx, tenant));
  std::string pid = pipeline_id;
  if (pid.empty()) {
    ASSIGN_OR_RETURN(Result def, tx.Exec("SELECT id FROM pipeline.pipelines WHERE tenant_id = $1 "
                                         "AND is_default",
                                         {tenant}));
    pid = def.String(0, 0);
  }
  absl::StatusOr<v1::Pipeline> pipeline = LoadPipeline(tx, tenant, pid, false);
  if (pipeline.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat("deal.pipeline: pipelines/", pid, " does not exist"));
  }
  RETURN_IF_ERROR(pipeline.status());
  const v1::Stage* stage = nullptr;
  if (stage_id.empty()) {
    for (const v1::Stage& s : pipeline->stages()) {
      if (s.kind() == v1::STAGE_KIND_OPEN) {
        stage = &s;
        break;
      }
    }
  } else {
    stage = FindStage(*pipeline, stage_id);
  }
  if (stage == nullptr) {
    return absl::FailedPreconditionError("stage: not a stage of the deal's pipeline");
  }
  const std::string id = ids::NewUuidV7();
  const absl::Time now = db::NowMicros();
  const int32_t probability =
      deal.probability_overridden() ? deal.probability_percent() : stage->probability_percent();
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat(
                  "INSERT INTO pipeline.deals (tenant_id, id, display_name, contact_id, "
                  "company_id, owner, creator, amount_minor, currency_code, expected_close_date, "
                  "pipeline_id, stage_id, probability_percent, probability_overridden, next_step, "
                  "lead_source, close_time, create_request_id, create_time, update_time, "
                  "custom_fields) VALUES "
                  "($1, $2, $3, $4::uuid, $5::uuid, $6, $7, $8, $9, $10::date, $11::uuid, "
                  "$12::uuid, $13, $14, $15, $16, CASE WHEN $17 THEN ",
                  db::TimeParam(19), " END, $18, ", db::TimeParam(19), ", ", db::TimeParam(19),
                  ", $20::jsonb) ON CONFLICT (tenant_id, creator, create_request_id) WHERE "
                  "create_request_id IS NOT NULL DO NOTHING "
                  "RETURNING ",
                  DealColumns()),
              {tenant,
               id,
               deal.display_name(),
               OptionalId(deal.contact(), "contacts/"),
               OptionalId(deal.company(), "companies/"),
               deal.owner(),
               creator,
               absl::StrCat(deal.amount().amount_minor()),
               deal.amount().currency_code(),
               deal.expected_close_date().empty() ? Param() : Param(deal.expected_close_date()),
               pid,
               stage->id(),
               absl::StrCat(probability),
               deal.probability_overridden() ? "true" : "false",
               deal.next_step(),
               deal.lead_source(),
               stage->kind() != v1::STAGE_KIND_OPEN ? "true" : "false",
               request_id.empty() ? Param() : Param(request_id),
               MicrosParam(now),
               fields::ValuesToJson(deal.custom_fields())}));
  if (rows.rows() == 0) {
    ASSIGN_OR_RETURN(Result first, tx.Exec(absl::StrCat("SELECT ", DealColumns(),
                                                        " FROM pipeline.deals WHERE tenant_id = "
                                                        "$1 AND creator = $3 AND "
                                                        "create_request_id = $2"),
                                           {tenant, request_id, creator}));
    return DealFromRow(first, 0);
  }
  v1::Deal created = DealFromRow(rows, 0);
  if (guard) guard(tx, created.name(), created.custom_fields());
  v1::DealCreated event;
  *event.mutable_deal() = created;
  outbox_.Append(tx, tenant, Draft<v1::Deal>(created.name(), creator, now, event));
  RecordMove(tx, tenant, created, nullptr, *stage, creator, now);
  return created;
}

absl::StatusOr<v1::Deal> PipelineStore::SetLineItems(
    const std::string& tenant, const std::string& id, std::vector<v1::LineItem> items,
    const std::string& actor, const std::function<absl::Status(const v1::Deal&)>& check,
    absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result rows, LockDeal(tx, tenant, id));
  const v1::Deal current = DealFromRow(rows, 0);
  RETURN_IF_ERROR(check(current));
  std::vector<std::string> product_ids;
  for (const auto& item : items)
    product_ids.push_back(item.product().substr(kProductPrefix.size()));
  ASSIGN_OR_RETURN(auto products, products_.LoadProducts(tx, tenant, product_ids));
  __int128 total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    auto product = products.find(product_ids[i]);
    if (product == products.end()) {
      return absl::NotFoundError(
          absl::StrCat("line_items[", i, "].product: ", items[i].product(), " does not exist"));
    }
    if (!items[i].has_unit_price()) *items[i].mutable_unit_price() = product->second.list_price();
    if (items[i].unit_price().currency_code() != current.amount().currency_code()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line_items[", i, "].unit_price: currency ", items[i].unit_price().currency_code(),
          " differs from the deal's ", current.amount().currency_code()));
    }
    total += static_cast<__int128>(items[i].unit_price().amount_minor()) * items[i].quantity();
  }
  if (total > std::numeric_limits<int64_t>::max()) {
    return absl::InvalidArgumentError("line_items: the total overflows the amount");
  }
  products_.QueueReplaceLineItems(tx, tenant, id, items);
  const absl::Time now = db::NowMicros();
  ASSIGN_OR_RETURN(
      Result updated,
      tx.Exec(absl::StrCat("UPDATE pipeline.deals SET amount_minor = $3, version = "
                           "version + 1, update_time = ",
                           db::TimeParam(4), " WHERE tenant_id = $1 AND id = $2::uuid RETURNING ",
                           DealColumns()),
              {tenant, id, absl::StrCat(static_cast<int64_t>(total)), MicrosParam(now)}));
  v1::Deal result = DealFromRow(updated, 0);
  for (auto& item : items) *result.add_line_items() = std::move(item);
  v1::DealUpdated event;
  *event.mutable_deal() = result;
  event.add_changed_fields("line_items");
  event.add_changed_fields("amount");
  outbox_.Append(tx, tenant, Draft<v1::Deal>(result.name(), actor, now, event));
  RETURN_IF_ERROR(tx.Commit());
  return result;
}

absl::StatusOr<v1::Deal> PipelineStore::GetDeal(const std::string& tenant, const std::string& id,
                                                absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r, db::RunOnce(pool_, tenant,
                                         absl::StrCat("SELECT ", DealColumns(),
                                                      " FROM pipeline.deals WHERE tenant_id = $1 "
                                                      "AND id = $2::uuid AND delete_time IS NULL"),
                                         {tenant, id}, deadline));
  if (r.rows() == 0) return absl::NotFoundError(absl::StrCat("deals/", id, " not found"));
  return DealFromRow(r, 0);
}

absl::StatusOr<PageResult<v1::Deal>> PipelineStore::ListDeals(
    const std::string& tenant, const std::string& after_id, int64_t offset, int page_size,
    const api::SqlFilter& filter, const std::string& order_sql, absl::Time deadline) {
  Params params = {tenant, after_id.empty() ? Param() : Param(after_id),
                   absl::StrCat(page_size + 1)};
  params.insert(params.end(), filter.params.begin(), filter.params.end());
  ASSIGN_OR_RETURN(
      Result r, db::RunOnce(pool_, tenant,
                            absl::StrCat("SELECT ", DealColumns(),
                                         " FROM pipeline.deals WHERE tenant_id = "
                                         "$1 AND delete_time IS NULL AND ($2::uuid IS NULL OR id > "
                                         "$2::uuid)",
                                         filter.where.empty() ? "" : " AND ", filter.where,
                                         " ORDER BY ", order_sql, " LIMIT $3 OFFSET ", offset),
                            params, deadline));
  PageResult<v1::Deal> out;
  out.more = r.rows() > page_size;
  for (int i = 0; i < std::min(r.rows(), page_size); ++i) out.items.push_back(DealFromRow(r, i));
  return out;
}

absl::StatusOr<v1::Deal> PipelineStore::UpdateDeal(
    const std::string& tenant, const std::string& id, const std::string& actor,
    const std::function<absl::StatusOr<v1::Deal>(const v1::Deal&, const v1::Pipeline&)>& mutate,
    absl::Time deadline, const fields::WriteGuard& guard) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result rows, LockDeal(tx, tenant, id));
  const v1::Deal current = DealFromRow(rows, 0);
  ASSIGN_OR_RETURN(
      v1::Pipeline pipeline,
      LoadPipeline(tx, tenant, current.pipeline().substr(kPipelinePrefix.size()), false));
  ASSIGN_OR_RETURN(v1::Deal next, mutate(current, pipeline));
  const absl::Time now = db::NowMicros();
  ASSIGN_OR_RETURN(
      Result updated,
      tx.Exec(
          absl::StrCat("UPDATE pipeline.deals SET display_name = $3, contact_id = $4::uuid, "
                       "company_id = $5::uuid, owner = $6, amount_minor = $7, currency_code = $8, "
                       "expected_close_date = $9::date, probability_percent = $10, "
                       "probability_overridden = $11, next_step = $12, lead_source = $13, "
                       "contact_missing = false, custom_fields = $15::jsonb, "
                       "version = version + 1, update_time = ",
                       db::TimeParam(14), " WHERE tenant_id = $1 AND id = $2::uuid RETURNING ",
                       DealColumns()),
          {tenant, id, next.display_name(), OptionalId(next.contact(), "contacts/"),
           OptionalId(next.company(), "companies/"), next.owner(),
           absl::StrCat(next.amount().amount_minor()), next.amount().currency_code(),
           next.expected_close_date().empty() ? Param() : Param(next.expected_close_date()),
           absl::StrCat(next.probability_percent()),
           next.probability_overridden() ? "true" : "false", next.next_step(), next.lead_source(),
           MicrosParam(now), fields::ValuesToJson(next.custom_fields())}));
  v1::Deal result = DealFromRow(updated, 0);
  if (guard) guard(tx, result.name(), result.custom_fields());
  v1::DealUpdated event;
  *event.mutable_deal() = result;
  const std::vector<std::string> changed = events::ChangedPaths(current, result);
  for (const std::string& path : changed) event.add_changed_fields(path);
  events::CopyPrevious(current, changed, event.mutable_previous());
  outbox_.Append(tx, tenant, Draft<v1::Deal>(result.name(), actor, now, event));
  RETURN_IF_ERROR(tx.Commit());
  return result;
}

absl::Status PipelineStore::DeleteDeal(const std::string& tenant, const std::string& id,
                                       const std::string& actor,
                                       const std::function<absl::Status(const v1::Deal&)>& check,
                                       absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result rows, LockDeal(tx, tenant, id));
  RETURN_IF_ERROR(check(DealFromRow(rows, 0)));
  const absl::Time now = db::NowMicros();
  tx.Queue(absl::StrCat("UPDATE pipeline.deals SET delete_time = ", db::TimeParam(3),
                        ", version = version + 1 WHERE tenant_id = $1 AND id = $2::uuid"),
           {tenant, id, MicrosParam(now)});
  unique_.QueueRelease(tx, common::v1::OBJECT_TYPE_DEAL, absl::StrCat(kDealPrefix, id));
  v1::DealDeleted event;
  event.set_name(absl::StrCat(kDealPrefix, id));
  outbox_.Append(tx, tenant, Draft<v1::Deal>(event.name(), actor, now, event));
  return tx.Commit();
}

absl::StatusOr<v1::Deal> PipelineStore::MoveDeal(
    const std::string& tenant, const std::string& id, const std::string& stage_id,
    const std::string& lost_reason, const std::map<std::string, std::string>& contract_numbers,
    const std::string& actor,
    const std::function<absl::Status(const v1::Deal&, const v1::Stage& from, const v1::Stage* to)>&
        check,
    absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  // The deal (locked) and its pipeline's stages in one round trip.
  const int lock = tx.Queue(absl::StrCat("SELECT ", DealColumns(),
                                         " FROM pipeline.deals WHERE tenant_id = $1 AND id = "
                                         "$2::uuid AND delete_time IS NULL FOR UPDATE"),
                            {tenant, id});
  ASSIGN_OR_RETURN(
      Result stage_rows,
      tx.Exec("SELECT id, display_name, probability_percent, forecast_category, kind "
              "FROM pipeline.stages WHERE tenant_id = $1 AND pipeline_id = (SELECT "
              "pipeline_id FROM pipeline.deals WHERE tenant_id = $1 AND id = $2::uuid) "
              "ORDER BY position",
              {tenant, id}));
  const Result& rows = tx.ResultOf(lock);
  if (rows.rows() == 0) return absl::NotFoundError(absl::StrCat("deals/", id, " not found"));
  const v1::Deal current = DealFromRow(rows, 0);
  v1::Pipeline pipeline;
  AddStages(stage_rows, pipeline);
  const v1::Stage* from = FindStage(pipeline, current.stage());
  const v1::Stage* to = FindStage(pipeline, stage_id);
  if (from == nullptr) return absl::InternalError("the deal's stage is missing");
  // The caller's checks come first (who may move it, and an unknown stage among them), so a
  // caller who may not touch the deal learns nothing about its pipeline.
  RETURN_IF_ERROR(check(current, *from, to));
  if (to == nullptr) return absl::InternalError("move checks let an unknown stage through");
  if (from->id() == to->id()) return current;  // already there: nothing to record
  const absl::Time now = db::NowMicros();
  // The moved deal is known without reading it back, so the update, its history, its event and
  // the commit go out together.
  v1::Deal result = current;
  result.set_stage(to->id());
  if (!result.probability_overridden()) result.set_probability_percent(to->probability_percent());
  result.set_lost_reason(to->kind() == v1::STAGE_KIND_LOST ? lost_reason : "");
  if (to->kind() != v1::STAGE_KIND_OPEN) {
    db::SetTime(result.mutable_close_time(), now);
  } else {
    result.clear_close_time();
  }
  result.set_etag(db::NextEtag(current.etag()));
  db::SetTime(result.mutable_update_time(), now);
  tx.Queue(absl::StrCat("UPDATE pipeline.deals SET stage_id = $3::uuid, probability_percent = $4, "
                        "lost_reason = $5, close_time = CASE WHEN $6 THEN ",
                        db::TimeParam(7), " ELSE NULL END, version = version + 1, update_time = ",
                        db::TimeParam(7), " WHERE tenant_id = $1 AND id = $2::uuid"),
           {tenant, id, to->id(), absl::StrCat(result.probability_percent()), result.lost_reason(),
            to->kind() != v1::STAGE_KIND_OPEN ? "true" : "false", MicrosParam(now)});
  RecordMove(tx, tenant, result, from, *to, actor, now);
  if (to->kind() == v1::STAGE_KIND_WON && from->kind() != v1::STAGE_KIND_WON) {
    ASSIGN_OR_RETURN(std::vector<v1::Purchase> purchases,
                     products_.RecordPurchases(tx, tenant, result, contract_numbers, now));
    v1::DealWon won;
    *won.mutable_deal() = result;
    for (auto& purchase : purchases) *won.add_purchases() = std::move(purchase);
    outbox_.Append(tx, tenant, Draft<v1::Deal>(result.name(), actor, now, won));
  }
  RETURN_IF_ERROR(tx.Commit());
  return result;
}

absl::Status PipelineStore::RepointContact(Transaction& tx, const std::string& tenant,
                                           const std::string& loser, const std::string& winner) {
  const absl::Time now = db::NowMicros();
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("UPDATE pipeline.deals SET contact_id = $3::uuid, version = version + "
                           "1, update_time = ",
                           db::TimeParam(4),
                           " WHERE tenant_id = $1 AND "
                           "contact_id = $2::uuid RETURNING ",
                           DealColumns()),
              {tenant, loser.substr(9), winner.substr(9), MicrosParam(now)}));
  tx.Queue(
      "UPDATE pipeline.purchases SET contact_id = $3::uuid WHERE tenant_id = $1 AND "
      "contact_id = $2::uuid",
      {tenant, loser.substr(9), winner.substr(9)});
  for (int i = 0; i < rows.rows(); ++i) {
    v1::DealUpdated event;
    *event.mutable_deal() = DealFromRow(rows, i);
    event.add_changed_fields("contact");
    outbox_.Append(tx, tenant, Draft<v1::Deal>(event.deal().name(), "", now, event));
  }
  return absl::OkStatus();
}

absl::Status PipelineStore::FlagMissingContact(Transaction& tx, const std::string& tenant,
                                               const std::string& contact) {
  const absl::Time now = db::NowMicros();
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("UPDATE pipeline.deals SET contact_missing = true, version = version "
                           "+ 1, update_time = ",
                           db::TimeParam(3),
                           " WHERE tenant_id = $1 AND "
                           "contact_id = $2::uuid AND NOT contact_missing RETURNING ",
                           DealColumns()),
              {tenant, contact.substr(9), MicrosParam(now)}));
  for (int i = 0; i < rows.rows(); ++i) {
    v1::DealUpdated event;
    *event.mutable_deal() = DealFromRow(rows, i);
    event.add_changed_fields("contact_missing");
    outbox_.Append(tx, tenant, Draft<v1::Deal>(event.deal().name(), "", now, event));
  }
  return absl::OkStatus();
}

void PipelineStore::AppendEvent(Transaction& tx, const std::string& tenant,
                                const std::string& deal_name,
                                const google::protobuf::Message& payload) {
  outbox_.Append(tx, tenant, Draft<v1::Deal>(deal_name, "", db::NowMicros(), payload));
}

absl::StatusOr<std::vector<v1::StageChange>> PipelineStore::ListStageHistory(
    const std::string& tenant, const std::string& id, int64_t offset, int limit,
    absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result exists, tx.Exec("SELECT 1 FROM pipeline.deals WHERE tenant_id = $1 AND "
                                          "id = $2::uuid AND delete_time IS NULL",
                                          {tenant, id}));
  if (exists.rows() == 0) return absl::NotFoundError(absl::StrCat("deals/", id, " not found"));
  const int history =
      tx.Queue(absl::StrCat("SELECT coalesce(from_stage::text, ''), to_stage, actor, ",
                            db::MicrosOf("change_time"),
                            " FROM pipeline.stage_history WHERE tenant_id = "
                            "$1 AND deal_id = $2::uuid ORDER BY change_time, id "
                            "LIMIT $3 OFFSET $4"),
               {tenant, id, absl::StrCat(limit), absl::StrCat(offset)});
  RETURN_IF_ERROR(tx.Commit());
  const Result& r = tx.ResultOf(history);
  std::vector<v1::StageChange> out;
  for (int i = 0; i < r.rows(); ++i) {
    v1::StageChange c;
    c.set_deal(absl::StrCat(kDealPrefix, id));
    c.set_from_stage(r.String(i, 0));
    c.set_to_stage(r.String(i, 1));
    c.set_actor(r.String(i, 2));
    db::SetTimestamp(c.mutable_change_time(), r.Int(i, 3));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace crm::pipeline
