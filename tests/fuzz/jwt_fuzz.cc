// Bearer tokens are the first bytes of every request: parsing any of them is safe, none verifies
// without the key, and whatever claims we sign verify to the same claims.
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/auth/jwt.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef-0123456789";

const crm::auth::JwtVerifier& Verifier() {
  static const auto* verifier =
      new crm::auth::JwtVerifier(*crm::auth::JwtVerifier::ForHs256Secret(kSecret));
  return *verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = crm::fuzz::AsView(data, size);
  const absl::Time now = absl::FromUnixSeconds(1790000000);
  // A forged token would need the HMAC key: anything the fuzzer makes must be refused.
  CRM_FUZZ_CHECK(!Verifier().Verify(input, now).ok());
  auto bearer = crm::auth::BearerToken(input);
  if (bearer.ok()) {
    CRM_FUZZ_CHECK(!bearer->empty());
    CRM_FUZZ_CHECK(!Verifier().Verify(*bearer, now).ok());
  }
  // Claims made of the input (split at newlines) survive signing and verification.
  const std::vector<std::string> parts = crm::fuzz::SplitLines(input, 3);
  crm::auth::Claims claims;
  claims.subject = parts[0];
  claims.tenant = parts.size() > 1 ? parts[1] : "t";
  if (parts.size() > 2) claims.roles = {parts[2]};
  claims.expires = now + absl::Hours(1);
  auto verified = Verifier().Verify(crm::auth::SignHs256(claims, kSecret), now);
  if (verified.ok()) {
    CRM_FUZZ_CHECK(verified->expires == claims.expires);
  }
  return 0;
}
