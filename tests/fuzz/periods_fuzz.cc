// Report periods from client dates: "KIND PERIOD FISCAL_MONTH\nANCHOR\nFROM\nTO\nBUCKET" resolves
// to a non-empty range of at most ten years containing the anchor, or to INVALID_ARGUMENT.
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "services/reporting/periods.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = crm::fuzz::SplitLines(crm::fuzz::AsView(data, size), 5);
  const std::vector<std::string> head = absl::StrSplit(parts[0], ' ');
  int period = 0;
  int fiscal_month = 1;
  if (head.size() > 0) (void)absl::SimpleAtoi(head[0], &period);
  if (head.size() > 1) (void)absl::SimpleAtoi(head[1], &fiscal_month);
  if (fiscal_month < 1 || fiscal_month > 12) fiscal_month = 1;  // the tenant setting is validated
  crm::reporting::v1::ReportSpec spec;
  spec.set_period(static_cast<crm::reporting::v1::PeriodKind>(period & 0xff));
  if (parts.size() > 1) spec.set_anchor_date(parts[1]);
  if (parts.size() > 2) spec.set_from_date(parts[2]);
  if (parts.size() > 3) spec.set_to_date(parts[3]);
  if (parts.size() > 4) spec.set_bucket(parts[4]);
  const absl::CivilDay today(2026, 11, 26);
  auto resolved = crm::reporting::ResolvePeriod(spec, today, fiscal_month);
  if (!resolved.ok()) {
    CRM_FUZZ_CHECK(resolved.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  CRM_FUZZ_CHECK(resolved->from < resolved->to);
  CRM_FUZZ_CHECK(resolved->to - resolved->from <= 3700);
  auto bucket = crm::reporting::BucketOf(spec, *resolved);
  if (bucket.ok()) CRM_FUZZ_CHECK(!bucket->empty());
  auto previous = crm::reporting::PreviousPeriod(spec.period(), resolved->from, fiscal_month);
  if (previous.ok()) CRM_FUZZ_CHECK(previous->to <= resolved->from);
  return 0;
}
