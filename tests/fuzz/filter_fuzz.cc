// AIP-160 list filters and order_by, against the contacts schema (the largest one): never a crash,
// and a compiled filter uses exactly its own placeholders, so client text cannot become SQL.
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "common/api/filter.h"
#include "common/api/order_by.h"
#include "services/contacts/contact_filters.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// Every "$N" in `sql` lies within [first, first + count).
bool PlaceholdersInRange(const std::string& sql, int first, size_t count) {
  for (size_t i = sql.find('$'); i != std::string::npos; i = sql.find('$', i + 1)) {
    size_t end = i + 1;
    while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9') ++end;
    int number = 0;
    if (!absl::SimpleAtoi(sql.substr(i + 1, end - i - 1), &number)) return false;
    if (number < first || number >= first + static_cast<int>(count)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = crm::fuzz::AsView(data, size);
  constexpr int kFirstParam = 3;
  auto filter = crm::api::CompileFilter(crm::fuzz::Absl(input),
                                        crm::contacts::ContactFilterSchema(), kFirstParam);
  // Errors echo client text; they travel as proto3 strings, so they must stay valid UTF-8.
  CRM_FUZZ_CHECK(crm::fuzz::IsUtf8(filter.status().message()));
  if (filter.ok()) {
    CRM_FUZZ_CHECK(filter->where.empty() || filter->where.front() == '(');
    CRM_FUZZ_CHECK(PlaceholdersInRange(filter->where, kFirstParam, filter->params.size()));
    CRM_FUZZ_CHECK(filter->where.find(';') == std::string::npos);
  }
  auto companies =
      crm::api::CompileFilter(crm::fuzz::Absl(input), crm::contacts::CompanyFilterSchema(), 1);
  if (companies.ok()) {
    CRM_FUZZ_CHECK(PlaceholdersInRange(companies->where, 1, companies->params.size()));
  }
  const std::map<std::string, std::string> columns = {{"create_time", "c.create_time"},
                                                      {"display_name", "lower(c.display_name)"}};
  auto order = crm::api::OrderBySql(crm::fuzz::Absl(input), columns, "c.id");
  CRM_FUZZ_CHECK(crm::fuzz::IsUtf8(order.status().message()));
  if (order.ok()) CRM_FUZZ_CHECK(order->find(';') == std::string::npos);
  return 0;
}
