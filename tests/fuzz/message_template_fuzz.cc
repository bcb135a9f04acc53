// Personalised-message templates written by users ("Hi {{first_name}}"): any text compiles or is
// refused with a reason, and rendering a compiled one never fails.
#include <cstdint>
#include <string>

#include "services/contacts/message_template.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = crm::fuzz::SplitLines(crm::fuzz::AsView(data, size), 2);
  auto compiled = crm::contacts::MessageTemplate::Compile(parts[0]);
  if (!compiled.ok()) {
    CRM_FUZZ_CHECK(!compiled.status().message().empty());
    return 0;
  }
  crm::contacts::v1::Contact contact;
  const std::string value = parts.size() > 1 ? parts[1] : "Anna";
  contact.set_given_name(value);
  contact.set_family_name(value);
  (void)compiled->Render(contact, value);
  return 0;
}
