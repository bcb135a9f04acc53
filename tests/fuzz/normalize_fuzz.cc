// Emails, phones, domains and free text from imports and forms: never a crash, and normalising is
// idempotent (a normalised value is its own normal form), which dedup keys rely on.
#include <cstdint>
#include <string>

#include "common/text/normalize.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = crm::fuzz::AsView(data, size);
  auto email = crm::text::NormalizeEmail(input);
  if (email.ok()) {
    auto again = crm::text::NormalizeEmail(*email);
    CRM_FUZZ_CHECK(again.ok() && *again == *email);
  }
  for (const char* region : {"US", "DE", "AM"}) {
    auto phone = crm::text::NormalizePhone(input, region);
    if (phone.ok()) {
      CRM_FUZZ_CHECK(!phone->empty() && (*phone)[0] == '+');
      auto again = crm::text::NormalizePhone(*phone, region);
      CRM_FUZZ_CHECK(again.ok() && *again == *phone);
    }
  }
  auto domain = crm::text::NormalizeDomain(input);
  if (domain.ok()) {
    auto again = crm::text::NormalizeDomain(*domain);
    CRM_FUZZ_CHECK(again.ok() && *again == *domain);
  }
  auto text = crm::text::CleanText(input, 200);
  if (text.ok()) {
    auto again = crm::text::CleanText(*text, 200);
    CRM_FUZZ_CHECK(again.ok() && *again == *text);
  }
  (void)crm::text::FoldCase(input);
  (void)crm::text::IsValidRegionCode(input);
  return 0;
}
