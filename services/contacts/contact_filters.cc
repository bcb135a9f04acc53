#include "services/contacts/contact_filters.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/page_token.h"
#include "services/contacts/contact_rules.h"

namespace crm::contacts {
namespace {

using api::FilterField;
using api::FilterType;

// Accepts CUSTOMER, customer, LIFECYCLE_STAGE_CUSTOMER; returns the stored text.
std::optional<std::string> LifecycleValue(absl::string_view literal) {
  std::string upper = absl::AsciiStrToUpper(literal);
  if (!absl::StartsWith(upper, "LIFECYCLE_STAGE_")) upper = absl::StrCat("LIFECYCLE_STAGE_", upper);
  v1::LifecycleStage stage;
  if (!v1::LifecycleStage_Parse(upper, &stage) || stage == v1::LIFECYCLE_STAGE_UNSPECIFIED) {
    return std::nullopt;
  }
  return LifecycleStageToText(stage);
}

std::optional<std::string> LeadSourceValue(absl::string_view literal) {
  std::string upper = absl::AsciiStrToUpper(literal);
  if (!absl::StartsWith(upper, "LEAD_SOURCE_")) upper = absl::StrCat("LEAD_SOURCE_", upper);
  v1::LeadSource source;
  if (!v1::LeadSource_Parse(upper, &source) || source == v1::LEAD_SOURCE_UNSPECIFIED) {
    return std::nullopt;
  }
  return LeadSourceToText(source);
}

// A column of the contact's company, read by a correlated subquery so the main query needs no
// join (and its unqualified column list stays unambiguous).
std::string CompanyColumn(absl::string_view column) {
  return absl::StrCat("(SELECT co.", column,
                      " FROM contacts.companies co WHERE co.tenant_id = "
                      "contacts.tenant_id AND co.id = contacts.company_id)");
}

void AddCommon(std::vector<FilterField>& f) {
  f.push_back({"owner", "owner", FilterType::kString, nullptr});
  f.push_back({"lifecycle_stage", "lifecycle_stage", FilterType::kEnum, LifecycleValue});
  f.push_back({"lead_source", "lead_source", FilterType::kEnum, LeadSourceValue});
  f.push_back({"campaign", "campaign", FilterType::kString, nullptr});
  f.push_back({"tags", "tags", FilterType::kStringList, nullptr});
  f.push_back({"attributes", "attributes", FilterType::kStringMap, nullptr});
  f.push_back({"create_time", "create_time", FilterType::kTimestamp, nullptr});
  f.push_back({"update_time", "update_time", FilterType::kTimestamp, nullptr});
}

}  // namespace

const api::FilterSchema& ContactFilterSchema() {
  static const auto* schema = [] {
    auto* s = new api::FilterSchema();
    auto& f = s->fields;
    f.push_back({"given_name", "given_name", FilterType::kString, nullptr});
    f.push_back({"family_name", "family_name", FilterType::kString, nullptr});
    f.push_back({"job_title", "job_title", FilterType::kString, nullptr});
    f.push_back({"emails", "emails", FilterType::kStringList, nullptr});
    f.push_back({"phones", "phones", FilterType::kStringList, nullptr});
    f.push_back({"last_contacted_time", "last_contacted_time", FilterType::kTimestamp, nullptr});
    f.push_back({"last_contacted_by", "last_contacted_by", FilterType::kString, nullptr});
    f.push_back({"company", "('companies/' || company_id::text)", FilterType::kString, nullptr});
    f.push_back(
        {"company.display_name", CompanyColumn("display_name"), FilterType::kString, nullptr});
    f.push_back({"company.industry", CompanyColumn("industry"), FilterType::kString, nullptr});
    f.push_back({"company.domain", CompanyColumn("domain"), FilterType::kString, nullptr});
    f.push_back({"company.lifecycle_stage", CompanyColumn("lifecycle_stage"), FilterType::kEnum,
                 LifecycleValue});
    AddCommon(f);
    return s;
  }();
  return *schema;
}

const api::FilterSchema& CompanyFilterSchema() {
  static const auto* schema = [] {
    auto* s = new api::FilterSchema();
    auto& f = s->fields;
    f.push_back({"display_name", "display_name", FilterType::kString, nullptr});
    f.push_back({"domain", "domain", FilterType::kString, nullptr});
    f.push_back({"industry", "industry", FilterType::kString, nullptr});
    AddCommon(f);
    return s;
  }();
  return *schema;
}

const std::map<std::string, std::string>& ContactSortColumns() {
  static const auto* columns = new std::map<std::string, std::string>{
      {"given_name", "given_name"},   {"family_name", "family_name"},
      {"job_title", "job_title"},     {"create_time", "create_time"},
      {"update_time", "update_time"}, {"last_contacted_time", "last_contacted_time"}};
  return *columns;
}

const std::map<std::string, std::string>& CompanySortColumns() {
  static const auto* columns =
      new std::map<std::string, std::string>{{"display_name", "display_name"},
                                             {"domain", "domain"},
                                             {"industry", "industry"},
                                             {"create_time", "create_time"},
                                             {"update_time", "update_time"}};
  return *columns;
}

}  // namespace crm::contacts
