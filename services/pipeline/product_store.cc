#include "services/pipeline/product_store.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "common/base/status_macros.h"
#include "common/db/sql_helpers.h"
#include "common/fields/values_json.h"
#include "common/ids/uuid.h"
#include "crm/pipeline/v1/pipeline_events.pb.h"
#include "services/pipeline/pipeline_rules.h"

namespace crm::pipeline {
namespace {

using db::Param;
using db::Result;
using db::Transaction;

constexpr char kProductColumns[] =
    "id, sku, display_name, list_price_minor, currency_code, billing, term_months, "
    "complementary, version, (extract(epoch FROM create_time) * 1000000)::bigint, custom_fields";
constexpr char kPurchaseColumns[] =
    "id, deal_id, product_id, contract_number, billing, term_months, quantity, unit_price_minor, "
    "currency_code, start_date::text, coalesce(end_date::text, ''), contact_id, company_id, "
    "owner, renewal_deal_id";

std::string BillingToText(v1::BillingType billing) {
  return billing == v1::BILLING_TYPE_SUBSCRIPTION ? "subscription" : "one_time";
}

v1::BillingType BillingFromText(absl::string_view text) {
  return text == "subscription" ? v1::BILLING_TYPE_SUBSCRIPTION : v1::BILLING_TYPE_ONE_TIME;
}

v1::Product ProductFromRow(const Result& r, int row) {
  v1::Product p;
  p.set_name(absl::StrCat(kProductPrefix, r.Text(row, 0)));
  p.set_sku(r.String(row, 1));
  p.set_display_name(r.String(row, 2));
  p.mutable_list_price()->set_amount_minor(r.Int(row, 3));
  p.mutable_list_price()->set_currency_code(r.String(row, 4));
  p.set_billing(BillingFromText(r.Text(row, 5)));
  p.set_term_months(static_cast<int32_t>(r.Int(row, 6)));
  for (const std::string& id : r.TextArray(row, 7)) {
    p.add_complementary_products(absl::StrCat(kProductPrefix, id));
  }
  p.set_etag(r.String(row, 8));
  db::SetTimestamp(p.mutable_create_time(), r.Int(row, 9));
  // A value the API cannot read back is dropped from the answer rather than failing the read.
  (void)fields::ValuesFromJson(r.Text(row, 10), p.mutable_custom_fields());
  return p;
}

v1::Purchase PurchaseFromRow(const Result& r, int row) {
  v1::Purchase p;
  p.set_name(absl::StrCat(kPurchasePrefix, r.Text(row, 0)));
  p.set_deal(absl::StrCat(kDealPrefix, r.Text(row, 1)));
  p.set_product(absl::StrCat(kProductPrefix, r.Text(row, 2)));
  p.set_contract_number(r.String(row, 3));
  p.set_billing(BillingFromText(r.Text(row, 4)));
  p.set_term_months(static_cast<int32_t>(r.Int(row, 5)));
  p.set_quantity(static_cast<int32_t>(r.Int(row, 6)));
  p.mutable_unit_price()->set_amount_minor(r.Int(row, 7));
  p.mutable_unit_price()->set_currency_code(r.String(row, 8));
  p.set_start_date(r.String(row, 9));
  p.set_end_date(r.String(row, 10));
  if (!r.IsNull(row, 11)) p.set_contact(absl::StrCat("contacts/", r.Text(row, 11)));
  if (!r.IsNull(row, 12)) p.set_company(absl::StrCat("companies/", r.Text(row, 12)));
  p.set_owner(r.String(row, 13));
  if (!r.IsNull(row, 14)) p.set_renewal_deal(absl::StrCat(kDealPrefix, r.Text(row, 14)));
  return p;
}

std::vector<std::string> Ids(const google::protobuf::RepeatedPtrField<std::string>& names,
                             absl::string_view prefix) {
  std::vector<std::string> ids;
  for (const std::string& name : names) ids.push_back(name.substr(prefix.size()));
  return ids;
}

absl::Status CheckComplementaryExist(Transaction& tx, const std::string& tenant,
                                     const std::vector<std::string>& ids) {
  if (ids.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(Result r, tx.Exec("SELECT count(*) FROM pipeline.products WHERE tenant_id = $1 "
                                     "AND id = ANY($2::uuid[])",
                                     {tenant, db::ToArrayLiteral(ids)}));
  if (r.Int(0, 0) != static_cast<int64_t>(std::set<std::string>(ids.begin(), ids.end()).size())) {
    return absl::NotFoundError("product.complementary_products: no such product in this tenant");
  }
  return absl::OkStatus();
}

void AppendChanged(events::Outbox& outbox, Transaction& tx, const std::string& tenant,
                   const v1::Product& product, const std::string& actor) {
  v1::ProductChanged event;
  *event.mutable_product() = product;
  outbox.Append(tx, tenant, events::Draft<v1::Product>(product.name(), actor, absl::Now(), event));
}

}  // namespace

absl::StatusOr<v1::Product> ProductStore::CreateProduct(const std::string& tenant,
                                                        const v1::Product& product,
                                                        const std::string& actor,
                                                        absl::Time deadline,
                                                        const fields::WriteGuard& guard) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  const std::vector<std::string> complementary =
      Ids(product.complementary_products(), kProductPrefix);
  RETURN_IF_ERROR(CheckComplementaryExist(tx, tenant, complementary));
  absl::StatusOr<Result> rows = tx.Exec(
      absl::StrCat("INSERT INTO pipeline.products (tenant_id, id, sku, display_name, "
                   "list_price_minor, currency_code, billing, term_months, complementary, "
                   "custom_fields) VALUES "
                   "($1, $2, $3, $4, $5, $6, $7, $8, $9::uuid[], $10::jsonb) RETURNING ",
                   kProductColumns),
      {tenant, ids::NewUuidV7(), product.sku(), product.display_name(),
       absl::StrCat(product.list_price().amount_minor()), product.list_price().currency_code(),
       BillingToText(product.billing()), absl::StrCat(product.term_months()),
       db::ToArrayLiteral(complementary), fields::ValuesToJson(product.custom_fields())});
  if (rows.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("product.sku: ", product.sku(), " is taken"));
  }
  RETURN_IF_ERROR(rows.status());
  const v1::Product created = ProductFromRow(*rows, 0);
  if (guard) guard(tx, created.name(), created.custom_fields());
  AppendChanged(outbox_, tx, tenant, created, actor);
  RETURN_IF_ERROR(tx.Commit());
  return created;
}

absl::StatusOr<std::vector<v1::Product>> ProductStore::ListProducts(const std::string& tenant,
                                                                    int64_t offset, int limit,
                                                                    absl::Time deadline) {
  ASSIGN_OR_RETURN(Result r,
                   db::RunOnce(pool_, tenant,
                               absl::StrCat("SELECT ", kProductColumns,
                                            " FROM pipeline.products WHERE tenant_id = "
                                            "$1 ORDER BY sku, id LIMIT $2 OFFSET $3"),
                               {tenant, absl::StrCat(limit), absl::StrCat(offset)}, deadline));
  std::vector<v1::Product> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(ProductFromRow(r, i));
  return out;
}

absl::StatusOr<v1::Product> ProductStore::UpdateProduct(
    const std::string& tenant, const std::string& id, const std::string& actor,
    const std::function<absl::StatusOr<v1::Product>(const v1::Product&)>& mutate,
    absl::Time deadline, const fields::WriteGuard& guard) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(pool_, tenant, deadline));
  ASSIGN_OR_RETURN(Result current, tx.Exec(absl::StrCat("SELECT ", kProductColumns,
                                                        " FROM pipeline.products WHERE tenant_id "
                                                        "= $1 AND id = $2::uuid FOR UPDATE"),
                                           {tenant, id}));
  if (current.rows() == 0) return absl::NotFoundError(absl::StrCat("products/", id, " not found"));
  ASSIGN_OR_RETURN(v1::Product next, mutate(ProductFromRow(current, 0)));
  const std::vector<std::string> complementary = Ids(next.complementary_products(), kProductPrefix);
  RETURN_IF_ERROR(CheckComplementaryExist(tx, tenant, complementary));
  ASSIGN_OR_RETURN(
      Result rows,
      tx.Exec(absl::StrCat("UPDATE pipeline.products SET display_name = $3, list_price_minor = "
                           "$4, currency_code = $5, term_months = $6, complementary = "
                           "$7::uuid[], custom_fields = $8::jsonb, version = version + 1 "
                           "WHERE tenant_id = $1 AND id = $2::uuid RETURNING ",
                           kProductColumns),
              {tenant, id, next.display_name(), absl::StrCat(next.list_price().amount_minor()),
               next.list_price().currency_code(), absl::StrCat(next.term_months()),
               db::ToArrayLiteral(complementary), fields::ValuesToJson(next.custom_fields())}));
  const v1::Product updated = ProductFromRow(rows, 0);
  if (guard) guard(tx, updated.name(), updated.custom_fields());
  AppendChanged(outbox_, tx, tenant, updated, actor);
  RETURN_IF_ERROR(tx.Commit());
  return updated;
}

absl::StatusOr<std::map<std::string, v1::Product>> ProductStore::LoadProducts(
    Transaction& tx, const std::string& tenant, const std::vector<std::string>& ids) {
  std::map<std::string, v1::Product> out;
  if (ids.empty()) return out;
  ASSIGN_OR_RETURN(Result r, tx.Exec(absl::StrCat("SELECT ", kProductColumns,
                                                  " FROM pipeline.products WHERE tenant_id = $1 "
                                                  "AND id = ANY($2::uuid[])"),
                                     {tenant, db::ToArrayLiteral(ids)}));
  for (int i = 0; i < r.rows(); ++i) out[r.String(i, 0)] = ProductFromRow(r, i);
  return out;
}

void ProductStore::QueueReplaceLineItems(Transaction& tx, const std::string& tenant,
                                         const std::string& deal_id,
                                         const std::vector<v1::LineItem>& items) {
  tx.Queue("DELETE FROM pipeline.line_items WHERE tenant_id = $1 AND deal_id = $2::uuid",
           {tenant, deal_id});
  for (size_t i = 0; i < items.size(); ++i) {
    tx.Queue(
        "INSERT INTO pipeline.line_items (tenant_id, deal_id, position, product_id, "
        "quantity, unit_price_minor, currency_code) VALUES ($1, $2::uuid, $3, $4::uuid, $5, "
        "$6, $7)",
        {tenant, deal_id, absl::StrCat(i), items[i].product().substr(kProductPrefix.size()),
         absl::StrCat(items[i].quantity()), absl::StrCat(items[i].unit_price().amount_minor()),
         items[i].unit_price().currency_code()});
  }
}

absl::StatusOr<std::vector<v1::LineItem>> ProductStore::LoadLineItems(Transaction& tx,
                                                                      const std::string& tenant,
                                                                      const std::string& deal_id) {
  ASSIGN_OR_RETURN(Result r, tx.Exec("SELECT product_id, quantity, unit_price_minor, "
                                     "currency_code FROM pipeline.line_items WHERE tenant_id = $1 "
                                     "AND deal_id = $2::uuid ORDER BY position",
                                     {tenant, deal_id}));
  std::vector<v1::LineItem> items;
  for (int i = 0; i < r.rows(); ++i) {
    v1::LineItem item;
    item.set_product(absl::StrCat(kProductPrefix, r.Text(i, 0)));
    item.set_quantity(static_cast<int32_t>(r.Int(i, 1)));
    item.mutable_unit_price()->set_amount_minor(r.Int(i, 2));
    item.mutable_unit_price()->set_currency_code(r.String(i, 3));
    items.push_back(std::move(item));
  }
  return items;
}

absl::StatusOr<std::vector<v1::Purchase>> ProductStore::RecordPurchases(
    Transaction& tx, const std::string& tenant, const v1::Deal& deal,
    const std::map<std::string, std::string>& contract_numbers, absl::Time now) {
  const std::string deal_id = deal.name().substr(kDealPrefix.size());
  ASSIGN_OR_RETURN(std::vector<v1::LineItem> items, LoadLineItems(tx, tenant, deal_id));
  std::vector<std::string> product_ids;
  for (const auto& item : items)
    product_ids.push_back(item.product().substr(kProductPrefix.size()));
  ASSIGN_OR_RETURN(auto products, LoadProducts(tx, tenant, product_ids));
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  std::vector<v1::Purchase> purchases;
  for (const v1::LineItem& item : items) {
    const v1::Product& product = products[item.product().substr(kProductPrefix.size())];
    std::string contract;
    auto given = contract_numbers.find(item.product());
    if (given != contract_numbers.end()) {
      contract = given->second;
    } else {
      // Counted per tenant; the counter row's lock orders concurrent wins.
      ASSIGN_OR_RETURN(Result n, tx.Exec("INSERT INTO pipeline.contract_counters AS c VALUES "
                                         "($1, 1) ON CONFLICT (tenant_id) DO UPDATE SET last = "
                                         "c.last + 1 RETURNING last",
                                         {tenant}));
      contract = absl::StrFormat("C-%04d-%06d", today.year(), n.Int(0, 0));
    }
    std::string end_date;
    if (product.billing() == v1::BILLING_TYPE_SUBSCRIPTION) {
      const absl::CivilMonth end_month =
          absl::CivilMonth(today) + std::max(1, product.term_months());
      const absl::CivilDay end(end_month.year(), end_month.month(), today.day());
      end_date = absl::FormatCivilTime(end);
    }
    absl::StatusOr<Result> inserted = tx.Exec(
        absl::StrCat("INSERT INTO pipeline.purchases (tenant_id, id, deal_id, product_id, "
                     "contract_number, billing, term_months, quantity, unit_price_minor, "
                     "currency_code, start_date, end_date, contact_id, company_id, owner) VALUES "
                     "($1, $2, $3::uuid, $4::uuid, $5, $6, $7, $8, $9, $10, $11::date, "
                     "$12::date, $13::uuid, $14::uuid, $15) RETURNING ",
                     kPurchaseColumns),
        {tenant, ids::NewUuidV7(), deal_id, item.product().substr(kProductPrefix.size()), contract,
         BillingToText(product.billing()), absl::StrCat(product.term_months()),
         absl::StrCat(item.quantity()), absl::StrCat(item.unit_price().amount_minor()),
         item.unit_price().currency_code(), absl::FormatCivilTime(today),
         end_date.empty() ? Param() : Param(end_date),
         deal.contact().empty() ? Param() : Param(deal.contact().substr(9)),
         deal.company().empty() ? Param() : Param(deal.company().substr(10)), deal.owner()});
    if (inserted.status().code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(
          absl::StrCat("contract_numbers: contract ", contract, " already exists"));
    }
    RETURN_IF_ERROR(inserted.status());
    purchases.push_back(PurchaseFromRow(*inserted, 0));
  }
  return purchases;
}

absl::StatusOr<std::vector<v1::Purchase>> ProductStore::ListPurchases(
    const std::string& tenant, const std::string& parent_column, const std::string& parent_id,
    int64_t offset, int limit, absl::Time deadline) {
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(pool_, tenant,
                  absl::StrCat("SELECT ", kPurchaseColumns,
                               " FROM pipeline.purchases WHERE tenant_id = $1 AND ", parent_column,
                               " = $2::uuid ORDER BY start_date, id LIMIT $3 OFFSET $4"),
                  {tenant, parent_id, absl::StrCat(limit), absl::StrCat(offset)}, deadline));
  std::vector<v1::Purchase> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(PurchaseFromRow(r, i));
  return out;
}

absl::StatusOr<std::vector<v1::CrossSellSuggestion>> ProductStore::SuggestCrossSell(
    const std::string& tenant, const std::string& customer_column, const std::string& customer_id,
    absl::Time deadline) {
  // Complementary works both ways: a product that lists a bought one is suggested too.
  ASSIGN_OR_RETURN(
      Result r,
      db::RunOnce(
          pool_, tenant,
          absl::StrCat("WITH bought AS (SELECT DISTINCT pu.product_id, pr.display_name, "
                       "min(pu.contract_number) AS contract FROM pipeline.purchases pu JOIN "
                       "pipeline.products pr ON pr.tenant_id = pu.tenant_id AND pr.id = "
                       "pu.product_id WHERE pu.tenant_id = $1 AND pu.",
                       customer_column,
                       " = $2::uuid GROUP BY pu.product_id, pr.display_name), "
                       "pairs AS (SELECT b.display_name AS because, b.contract, c.id AS suggested "
                       "FROM bought b JOIN pipeline.products p ON p.tenant_id = $1 AND p.id = "
                       "b.product_id, unnest(p.complementary) AS c(id) UNION "
                       "SELECT b.display_name, b.contract, p.id FROM bought b JOIN "
                       "pipeline.products p ON p.tenant_id = $1 AND b.product_id = "
                       "ANY(p.complementary)) "
                       "SELECT DISTINCT ON (pr.id) ",
                       kProductColumns,
                       ", pairs.because, pairs.contract FROM pairs JOIN pipeline.products pr ON "
                       "pr.tenant_id = $1 AND pr.id = pairs.suggested WHERE pairs.suggested NOT IN "
                       "(SELECT product_id FROM bought) ORDER BY pr.id, pairs.because"),
          {tenant, customer_id}, deadline));
  std::vector<v1::CrossSellSuggestion> out;
  const int because = r.ColumnIndex("because");
  const int contract = r.ColumnIndex("contract");
  for (int i = 0; i < r.rows(); ++i) {
    v1::CrossSellSuggestion s;
    *s.mutable_product() = ProductFromRow(r, i);
    s.set_reason(absl::StrCat("complements ", r.Text(i, because), " (bought with contract ",
                              r.Text(i, contract), ")"));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<DuePurchase>> ProductStore::DuePurchases(int default_lead_days,
                                                                    int limit,
                                                                    absl::Time deadline) {
  ASSIGN_OR_RETURN(Transaction tx, Transaction::BeginSystem(pool_, deadline));
  const int due = tx.Queue(
      "SELECT p.tenant_id, p.id FROM pipeline.purchases p LEFT JOIN pipeline.tenant_settings s "
      "ON s.tenant_id = p.tenant_id WHERE p.billing = 'subscription' AND p.renewal_deal_id IS "
      "NULL AND p.end_date <= current_date + coalesce(s.renewal_lead_days, $1) "
      "ORDER BY p.end_date LIMIT $2",
      {absl::StrCat(default_lead_days), absl::StrCat(limit)});
  RETURN_IF_ERROR(tx.Commit());
  std::vector<DuePurchase> out;
  const Result& r = tx.ResultOf(due);
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.String(i, 0), r.String(i, 1)});
  return out;
}

absl::StatusOr<std::optional<v1::Purchase>> ProductStore::LockForRenewal(Transaction& tx,
                                                                         const std::string& tenant,
                                                                         const std::string& id) {
  ASSIGN_OR_RETURN(Result r, tx.Exec(absl::StrCat("SELECT ", kPurchaseColumns,
                                                  " FROM pipeline.purchases WHERE tenant_id = $1 "
                                                  "AND id = $2::uuid AND renewal_deal_id IS NULL "
                                                  "FOR UPDATE SKIP LOCKED"),
                                     {tenant, id}));
  if (r.rows() == 0) return std::nullopt;
  return PurchaseFromRow(r, 0);
}

void ProductStore::QueueSetRenewal(Transaction& tx, const std::string& tenant,
                                   const std::string& id, const std::string& deal_id) {
  tx.Queue(
      "UPDATE pipeline.purchases SET renewal_deal_id = $3::uuid WHERE tenant_id = $1 AND "
      "id = $2::uuid",
      {tenant, id, deal_id});
}

}  // namespace crm::pipeline
