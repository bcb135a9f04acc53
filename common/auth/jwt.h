// JSON Web Token (RFC 7519) signing and verification for authenticating API callers.
//
// Only compact-serialised JWS tokens (RFC 7515) signed with HS256 or RS256 are supported. A
// verifier is bound to exactly one algorithm and key; the token header's "alg" is only checked
// against it, never used to choose the key, which rules out "none" and algorithm-confusion attacks.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::auth {

enum class Role { kRep, kManager, kAdmin, kService };

// The value used for `role` in the "roles" claim: "rep", "manager", "admin" or "service".
std::string_view RoleName(Role role);

// The claims this service relies on. Other claims in a token are ignored.
struct Claims {
  std::string subject;             // "sub": user id.
  std::string tenant;              // "tenant".
  std::vector<std::string> roles;  // "roles": unknown values are kept, callers match by name.
  absl::Time expires;              // "exp": NumericDate, whole seconds when signing.

  bool HasRole(std::string_view role) const;
  bool HasRole(Role role) const { return HasRole(RoleName(role)); }
};

// Verifies tokens for one configured algorithm and key. Cheap to copy; copies share the key.
// Verify is const and safe to call from several threads at once.
class JwtVerifier {
 public:
  // Empty secret -> INVALID_ARGUMENT.
  static absl::StatusOr<JwtVerifier> ForHs256Secret(std::string secret);
  // `pem` must hold an RSA SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----") of at least 2048
  // bits (RFC 7518 §3.3); anything else -> INVALID_ARGUMENT.
  static absl::StatusOr<JwtVerifier> ForRs256PublicKeyPem(std::string_view pem);

  // Returns the claims of a validly signed, unexpired token, otherwise UNAUTHENTICATED.
  // No clock leeway: the token is rejected when exp <= now or now < nbf. Error messages never
  // contain the token or the key.
  absl::StatusOr<Claims> Verify(std::string_view token, absl::Time now) const;

 private:
  enum class Algorithm { kHs256, kRs256 };

  JwtVerifier(Algorithm algorithm, std::string secret, std::shared_ptr<EVP_PKEY> public_key)
      : algorithm_(algorithm), secret_(std::move(secret)), public_key_(std::move(public_key)) {}

  Algorithm algorithm_;
  std::string secret_;                    // HS256 only.
  std::shared_ptr<EVP_PKEY> public_key_;  // RS256 only.
};

// Signs `claims` with HS256. JSON requires UTF-8, so invalid UTF-8 in a claim is replaced with
// U+FFFD rather than failing.
std::string SignHs256(const Claims& claims, std::string_view secret);

// Signs `claims` with RS256 using an unencrypted PEM private key of at least 2048 bits; a bad,
// encrypted, non-RSA or short key -> INVALID_ARGUMENT. Meant for tests and tools.
absl::StatusOr<std::string> SignRs256(const Claims& claims, std::string_view private_key_pem);

// Extracts the token from an "authorization" metadata value "Bearer <token>" (scheme is
// case-insensitive). The result points into `authorization_header`. Anything else, including an
// empty token, -> UNAUTHENTICATED.
absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header);

}  // namespace crm::auth
