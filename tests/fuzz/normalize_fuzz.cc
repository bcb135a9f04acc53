// Emails, phones, domains and free text from imports and forms: never a crash, and normalising is
// idempotent (a normalised value is its own normal form), which dedup keys rely on.
#include <cstdint>
#include <string>

#include "services/contacts/normalize.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = crm::fuzz::AsView(data, size);
  auto email = crm::contacts::NormalizeEmail(input);
  if (email.ok()) {
    auto again = crm::contacts::NormalizeEmail(*email);
    CRM_FUZZ_CHECK(again.ok() && *again == *email);
  }
  for (const char* region : {"US", "DE", "AM"}) {
    auto phone = crm::contacts::NormalizePhone(input, region);
    if (phone.ok()) {
      CRM_FUZZ_CHECK(!phone->empty() && (*phone)[0] == '+');
      auto again = crm::contacts::NormalizePhone(*phone, region);
      CRM_FUZZ_CHECK(again.ok() && *again == *phone);
    }
  }
  auto domain = crm::contacts::NormalizeDomain(input);
  if (domain.ok()) {
    auto again = crm::contacts::NormalizeDomain(*domain);
    CRM_FUZZ_CHECK(again.ok() && *again == *domain);
  }
  auto text = crm::contacts::CleanText(input, 200);
  if (text.ok()) {
    auto again = crm::contacts::CleanText(*text, 200);
    CRM_FUZZ_CHECK(again.ok() && *again == *text);
  }
  (void)crm::contacts::FoldCase(input);
  (void)crm::contacts::IsValidRegionCode(input);
  return 0;
}
