// google.api.http path templates and request paths: any template text parses or is refused, any
// path matches or not, and what a template binds is a piece of the path.
#include <cstdint>
#include <string>

#include "services/gateway/path_template.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = crm::fuzz::SplitLines(crm::fuzz::AsView(data, size), 2);
  const std::string& path = parts.back();
  // The first line as a template, matched against the rest as a path.
  if (parts.size() == 2) {
    auto parsed = crm::gateway::PathTemplate::Parse(parts[0]);
    if (parsed.ok()) {
      (void)parsed->Specificity();
      const auto bindings = parsed->Match(path);
      if (bindings) CRM_FUZZ_CHECK(bindings->size() == parsed->FieldPaths().size());
    }
  }
  // The path against templates of every form the API uses.
  static const auto* templates = new std::vector<crm::gateway::PathTemplate>{
      *crm::gateway::PathTemplate::Parse("/v1/contacts/{name=contacts/*}"),
      *crm::gateway::PathTemplate::Parse("/v1/{contact.name=contacts/*}:merge"),
      *crm::gateway::PathTemplate::Parse("/v1/{parent=companies/*}/activities"),
      *crm::gateway::PathTemplate::Parse("/v1/files/{name=**}"),
      *crm::gateway::PathTemplate::Parse("/v1/{name=webhooks/*/deliveries/*}")};
  for (const auto& t : *templates) {
    const auto bindings = t.Match(path);
    if (!bindings) continue;
    for (const auto& [field, value] : *bindings) {
      CRM_FUZZ_CHECK(!field.empty());
      CRM_FUZZ_CHECK(value.size() <= path.size());
    }
  }
  std::string decoded;
  if (crm::gateway::PercentDecode(path, /*keep_slash=*/true, &decoded)) {
    CRM_FUZZ_CHECK(decoded.size() <= path.size());
  }
  return 0;
}
