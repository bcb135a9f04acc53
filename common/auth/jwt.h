// JSON Web Token (RFC 7519) signing and verification for authenticating API callers.
//
// Compact-serialised JWS tokens (RFC 7515) signed with HS256, RS256 or ES256. The verifier's keys
// (keys.h) fix the algorithm: the token header's "alg" must agree with the chosen key and is never
// used to choose how to check, which rules out "none" and algorithm-confusion attacks. A policy
// adds what a deployment requires of the claims: issuer, audience, a maximum lifetime.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/key_source.h"

namespace crm::auth {

enum class Role { kRep, kManager, kAdmin, kService };

// The value used for `role` in the "roles" claim: "rep", "manager", "admin" or "service".
std::string_view RoleName(Role role);

// The claims this service relies on. Other claims in a token are ignored.
struct Claims {
  std::string subject;                  // "sub": user id.
  std::string tenant;                   // "tenant".
  std::vector<std::string> roles;       // "roles": unknown values are kept, callers match by name.
  absl::Time expires;                   // "exp": NumericDate, whole seconds when signing.
  std::string issuer;                   // "iss", "" when absent.
  std::vector<std::string> audiences;   // "aud": a string or an array of them.
  std::optional<absl::Time> issued_at;  // "iat".

  bool HasRole(std::string_view role) const;
  bool HasRole(Role role) const { return HasRole(RoleName(role)); }
};

// What a deployment requires of verified claims, beyond a good signature and an unexpired "exp".
struct TokenPolicy {
  std::string issuer;    // when set, "iss" must equal it
  std::string audience;  // when set, "aud" must contain it
  // When finite: exp - iat, and exp - now, may be at most this long (a token minted for a year
  // is refused even while it is young).
  absl::Duration max_lifetime = absl::InfiniteDuration();
  bool require_tenant = true;  // user tokens name their tenant; the service identity has none
};

// Verifies tokens against one key source and policy. Cheap to copy; copies share the keys.
// Verify is const and safe to call from several threads at once.
class JwtVerifier {
 public:
  // INVALID_ARGUMENT for a secret shorter than 32 bytes or the deploy/k8s placeholder.
  static absl::StatusOr<JwtVerifier> ForHs256Secret(std::string secret);
  // `pem` must hold an RSA SubjectPublicKeyInfo of at least 2048 bits (RFC 7518 §3.3).
  static absl::StatusOr<JwtVerifier> ForRs256PublicKeyPem(std::string_view pem);
  // RS256 or ES256, by the key's type (RSA of at least 2048 bits, EC P-256).
  static absl::StatusOr<JwtVerifier> ForPublicKeyPem(std::string_view pem);
  // The keys of a JWKS document, chosen by the token's "kid"; the file is re-read when it changes.
  static absl::StatusOr<JwtVerifier> ForJwksFile(std::string path);

  JwtVerifier WithPolicy(TokenPolicy policy) const {
    JwtVerifier copy = *this;
    copy.policy_ = std::move(policy);
    return copy;
  }

  // Returns the claims of a validly signed, unexpired token that meets the policy, otherwise
  // UNAUTHENTICATED. No clock leeway: the token is rejected when exp <= now or now < nbf. Error
  // messages never contain the token or the key.
  absl::StatusOr<Claims> Verify(std::string_view token, absl::Time now) const;

 private:
  explicit JwtVerifier(std::shared_ptr<KeySource> keys) : keys_(std::move(keys)) {}

  std::shared_ptr<KeySource> keys_;
  TokenPolicy policy_;
};

// Signs `claims` with HS256 (`kid` in the header when not empty). JSON requires UTF-8, so invalid
// UTF-8 in a claim is replaced with U+FFFD rather than failing.
std::string SignHs256(const Claims& claims, std::string_view secret, std::string_view kid = "");

// Signs `claims` with RS256 or ES256 using an unencrypted PEM private key (RSA of at least 2048
// bits, or EC P-256); a bad, encrypted or short key, or one of the other type -> INVALID_ARGUMENT.
// Meant for tests and tools.
absl::StatusOr<std::string> SignRs256(const Claims& claims, std::string_view private_key_pem,
                                      std::string_view kid = "");
absl::StatusOr<std::string> SignEs256(const Claims& claims, std::string_view private_key_pem,
                                      std::string_view kid = "");

// Extracts the token from an "authorization" metadata value "Bearer <token>" (scheme is
// case-insensitive). The result points into `authorization_header`. Anything else, including an
// empty token, -> UNAUTHENTICATED.
absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header);

// Whether `token` has the form of a compact JWS: three non-empty parts of base64url characters
// separated by dots. The gateway refuses anything else before it reaches a backend.
bool LooksLikeJws(std::string_view token);

}  // namespace crm::auth
