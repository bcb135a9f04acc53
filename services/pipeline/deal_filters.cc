#include "services/pipeline/deal_filters.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/api/errors.h"

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

absl::StatusOr<std::string> DealOrderBy(absl::string_view order_by) {
  static const auto* columns =
      new std::map<std::string, std::string>{{"amount_minor", "amount_minor"},
                                             {"expected_close_date", "expected_close_date"},
                                             {"probability_percent", "probability_percent"},
                                             {"create_time", "create_time"},
                                             {"update_time", "update_time"},
                                             {"display_name", "display_name"}};
  std::vector<std::string> terms;
  for (absl::string_view part : absl::StrSplit(order_by, ',', absl::SkipWhitespace())) {
    std::vector<std::string> words = absl::StrSplit(part, ' ', absl::SkipEmpty());
    if (words.empty() || words.size() > 2 ||
        (words.size() == 2 && words[1] != "desc" && words[1] != "asc")) {
      return api::InvalidField("order_by",
                               "write fields as 'name' or 'name desc', comma-separated");
    }
    auto column = columns->find(words[0]);
    if (column == columns->end()) {
      return api::InvalidField("order_by", absl::StrCat("cannot order by '", words[0], "'"));
    }
    terms.push_back(absl::StrCat(column->second, words.size() == 2 && words[1] == "desc"
                                                     ? " DESC NULLS LAST"
                                                     : " ASC NULLS LAST"));
  }
  terms.push_back("id");  // a total order, so pages neither repeat nor skip
  return absl::StrJoin(terms, ", ");
}

}  // namespace crm::pipeline
