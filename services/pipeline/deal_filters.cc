#include "services/pipeline/deal_filters.h"

#include <map>

#include "common/api/order_by.h"

namespace crm::pipeline {

const api::FilterSchema& DealFilterSchema() {
  using api::FilterType;
  static const auto* schema = new api::FilterSchema{{
      {"display_name", "display_name", FilterType::kString, nullptr},
      {"owner", "owner", FilterType::kString, nullptr},
      {"pipeline", "('pipelines/' || pipeline_id::text)", FilterType::kString, nullptr},
      {"stage", "stage_id::text", FilterType::kString, nullptr},
      {"contact", "('contacts/' || contact_id::text)", FilterType::kString, nullptr},
      {"company", "('companies/' || company_id::text)", FilterType::kString, nullptr},
      {"amount_minor", "amount_minor", FilterType::kInt, nullptr},
      {"currency_code", "currency_code", FilterType::kString, nullptr},
      {"expected_close_date", "expected_close_date::text", FilterType::kString, nullptr},
      {"probability_percent", "probability_percent", FilterType::kInt, nullptr},
      {"lead_source", "lead_source", FilterType::kString, nullptr},
      {"closed", "(close_time IS NOT NULL)", FilterType::kBool, nullptr},
      {"create_time", "create_time", FilterType::kTimestamp, nullptr},
      {"update_time", "update_time", FilterType::kTimestamp, nullptr},
  }};
  return *schema;
}

const std::map<std::string, std::string>& DealSortColumns() {
  static const auto* columns =
      new std::map<std::string, std::string>{{"amount_minor", "amount_minor"},
                                             {"expected_close_date", "expected_close_date"},
                                             {"probability_percent", "probability_percent"},
                                             {"create_time", "create_time"},
                                             {"update_time", "update_time"},
                                             {"display_name", "display_name"}};
  return *columns;
}

}  // namespace crm::pipeline
