// Page tokens come back from clients: decoding any bytes is safe, and only a token made for the
// same query is accepted.
#include <cstdint>
#include <string>

#include "common/api/page_token.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = crm::fuzz::AsView(data, size);
  const std::string fingerprint = crm::api::QueryFingerprint("lifecycle_stage = CUSTOMER");
  for (bool keyset : {true, false}) {
    auto position = crm::api::DecodeListPosition(crm::fuzz::Absl(input), fingerprint, keyset);
    if (position.ok()) CRM_FUZZ_CHECK(position->offset >= 0);
  }
  auto cursor = crm::api::DecodePageToken(crm::fuzz::Absl(input), fingerprint);
  if (cursor.ok()) CRM_FUZZ_CHECK(cursor->fingerprint == fingerprint);
  // What we encode, we decode to the same cursor (tokens are capped at 4 KiB).
  if (input.size() > 1024) return 0;
  const crm::api::PageCursor made{std::string(input), fingerprint};
  auto again = crm::api::DecodePageToken(crm::api::EncodePageToken(made), fingerprint);
  CRM_FUZZ_CHECK(again.ok() && again->last_key == made.last_key);
  return 0;
}
