// Row mapping and SQL helpers shared by the contacts service's stores: column lists, row ->
// proto conversion, timestamps chosen by the service, and one-statement transactions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/db/result.h"
#include "common/db/sql_helpers.h"
#include "common/db/transaction.h"
#include "common/events/outbox.h"
#include "common/fields/values_json.h"
#include "crm/contacts/v1/company.pb.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/contacts/v1/tenant_settings.pb.h"
#include "services/contacts/contact_rules.h"

namespace crm::contacts {

using db::MicrosParam;
using db::NextEtag;
using db::NowMicros;
using db::Param;
using db::Params;
using db::Result;
using db::RunOnce;
using db::RunOnceInIndexOrder;
using db::SetTime;
using db::SetTimestamp;
using db::TimeParam;
using db::Transaction;

inline constexpr char kContactColumns[] =
    "id, given_name, family_name, emails, phones, company_id, job_title, owner, creator, "
    "lifecycle_stage, lead_source, campaign, tags, attributes, version, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint, "
    "(extract(epoch FROM last_contacted_time) * 1000000)::bigint, last_contacted_by, merged_into, "
    "custom_fields";

inline constexpr char kCompanyColumns[] =
    "id, display_name, domain, industry, owner, creator, lifecycle_stage, lead_source, campaign, "
    "tags, attributes, version, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint, custom_fields";

inline constexpr char kSettingsColumns[] =
    "display_name, default_phone_region, time_zone, default_currency, fiscal_year_start_month, "
    "renewal_lead_days, version, (extract(epoch FROM update_time) * 1000000)::bigint";

inline void ReadAttributes(absl::string_view json,
                           google::protobuf::Map<std::string, std::string>* attributes) {
  auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) {
    if (it.value().is_string()) (*attributes)[it.key()] = it.value().get<std::string>();
  }
}

inline std::string AttributesJson(
    const google::protobuf::Map<std::string, std::string>& attributes) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : attributes) object[key] = value;
  return object.dump();
}

inline std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  return {values.begin(), values.end()};
}

inline db::Param OptionalId(const std::string& name, absl::string_view prefix) {
  if (name.empty()) return std::nullopt;
  return name.substr(prefix.size());
}

inline v1::Contact ContactFromRow(const Result& r, int row) {
  v1::Contact c;
  c.set_name(absl::StrCat(kContactPrefix, r.Text(row, 0)));
  c.set_given_name(r.String(row, 1));
  c.set_family_name(r.String(row, 2));
  for (auto& e : r.TextArray(row, 3)) c.add_emails(std::move(e));
  for (auto& p : r.TextArray(row, 4)) c.add_phones(std::move(p));
  if (!r.IsNull(row, 5)) c.set_company(absl::StrCat(kCompanyPrefix, r.Text(row, 5)));
  c.set_job_title(r.String(row, 6));
  c.set_owner(r.String(row, 7));
  c.set_creator(r.String(row, 8));
  c.set_lifecycle_stage(LifecycleStageFromText(r.Text(row, 9)));
  c.set_lead_source(LeadSourceFromText(r.Text(row, 10)));
  c.set_campaign(r.String(row, 11));
  for (auto& t : r.TextArray(row, 12)) c.add_tags(std::move(t));
  ReadAttributes(r.Text(row, 13), c.mutable_attributes());
  c.set_etag(r.String(row, 14));
  SetTimestamp(c.mutable_create_time(), r.Int(row, 15));
  SetTimestamp(c.mutable_update_time(), r.Int(row, 16));
  if (!r.IsNull(row, 17)) SetTimestamp(c.mutable_last_contacted_time(), r.Int(row, 17));
  c.set_last_contacted_by(r.String(row, 18));
  if (!r.IsNull(row, 19)) c.set_merged_into(absl::StrCat(kContactPrefix, r.Text(row, 19)));
  // A value the API cannot read back is dropped from the answer rather than failing the read.
  (void)fields::ValuesFromJson(r.Text(row, 20), c.mutable_custom_fields());
  return c;
}

inline v1::Company CompanyFromRow(const Result& r, int row) {
  v1::Company c;
  c.set_name(absl::StrCat(kCompanyPrefix, r.Text(row, 0)));
  c.set_display_name(r.String(row, 1));
  c.set_domain(r.String(row, 2));
  c.set_industry(r.String(row, 3));
  c.set_owner(r.String(row, 4));
  c.set_creator(r.String(row, 5));
  c.set_lifecycle_stage(LifecycleStageFromText(r.Text(row, 6)));
  c.set_lead_source(LeadSourceFromText(r.Text(row, 7)));
  c.set_campaign(r.String(row, 8));
  for (auto& t : r.TextArray(row, 9)) c.add_tags(std::move(t));
  ReadAttributes(r.Text(row, 10), c.mutable_attributes());
  c.set_etag(r.String(row, 11));
  SetTimestamp(c.mutable_create_time(), r.Int(row, 12));
  SetTimestamp(c.mutable_update_time(), r.Int(row, 13));
  (void)fields::ValuesFromJson(r.Text(row, 14), c.mutable_custom_fields());
  return c;
}

inline v1::TenantSettings SettingsFromRow(const Result& r) {
  v1::TenantSettings s;
  s.set_name("tenantSettings");
  s.set_display_name(r.String(0, 0));
  s.set_default_phone_region(r.String(0, 1));
  s.set_time_zone(r.String(0, 2));
  s.set_default_currency(r.String(0, 3));
  s.set_fiscal_year_start_month(static_cast<int32_t>(r.Int(0, 4)));
  s.set_renewal_lead_days(static_cast<int32_t>(r.Int(0, 5)));
  s.set_etag(r.String(0, 6));
  SetTimestamp(s.mutable_update_time(), r.Int(0, 7));
  return s;
}

using events::Draft;

}  // namespace crm::contacts
