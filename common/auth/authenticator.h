// Turns the `authorization: Bearer <JWT>` metadata of a gRPC call into a verified Principal.
//
// Two kinds of caller, each with its own credential:
// - users, whose tokens come from the tenant's identity provider (an HS256 secret in local runs;
//   RS256/ES256 public keys or a JWKS document in production), checked against the configured
//   issuer, audience and maximum lifetime. The tenant comes from the verified token only; no
//   request field can name another tenant.
// - the service identity: the backend services following each other's event streams across
//   tenants. Its tokens are signed with a secret only the backend services hold, configured apart
//   from the users' keys, so no tenant's token issuer can mint one; a user token that claims the
//   "service" role is refused.
#pragma once

#include <grpcpp/server_context.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/jwt.h"

namespace crm::auth {

// Who is calling, from a verified token.
struct Principal {
  std::string user;    // `sub`
  std::string tenant;  // `tenant`; empty for the service identity
  bool rep = false;
  bool manager = false;
  bool admin = false;
  bool service = false;  // the service identity (its own credential), across tenants

  // Managers and admins may change any record of their tenant; reps only their own.
  bool CanChangeOwnedBy(absl::string_view owner) const { return manager || admin || owner == user; }
  bool IsAdmin() const { return admin; }
};

struct AuthOptions {
  // User tokens: exactly one of the three key sources.
  std::string hs256_secret;    // local runs; at least 32 bytes
  std::string public_key_pem;  // RS256 (RSA) or ES256 (EC P-256) public key
  std::string jwks_file;       // a JWKS document, keys chosen by `kid`, re-read when it changes
  std::string issuer;          // when set, user tokens' `iss` must equal it
  std::string audience;        // when set, user tokens' `aud` must contain it
  absl::Duration max_user_token_lifetime = absl::Hours(24);
  // The service identity's HS256 secret (at least 32 bytes, unlike any user key). Empty: this
  // process accepts no service identity (the gateway).
  std::string service_secret;
};

// Service tokens carry this issuer and audience, so they cannot pass for user tokens of an
// identity provider configured with its own.
inline constexpr char kServiceIssuer[] = "crm-service";
inline constexpr absl::Duration kServiceTokenLifetime = absl::Hours(1);

class Authenticator final {
 public:
  // INVALID_ARGUMENT for a configuration to refuse at start-up: no or several user key sources, a
  // short or placeholder secret, a service secret equal to the users' secret.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const AuthOptions& options);

  // A user: UNAUTHENTICATED for a missing, malformed, forged, expired or over-long token, one
  // without tenant, or a user token that claims the service role; PERMISSION_DENIED for the
  // service identity (it only follows event streams) or a token with no known role.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;
  absl::StatusOr<Principal> AuthenticateBearer(absl::string_view authorization) const;

  // The service identity only: PERMISSION_DENIED for a valid user token.
  absl::StatusOr<Principal> AuthenticateService(const grpc::ServerContextBase& context) const;
  absl::StatusOr<Principal> AuthenticateServiceBearer(absl::string_view authorization) const;

 private:
  Authenticator(JwtVerifier users, std::optional<JwtVerifier> services)
      : users_(std::move(users)), services_(std::move(services)) {}
  // Either kind of caller.
  absl::StatusOr<Principal> Verify(absl::string_view authorization) const;

  // Verify once: a verified token is remembered until it expires, at most kVerifiedFor, so a
  // caller's next calls cost a hash look-up instead of a signature check and a JSON parse. (A key
  // removed from the JWKS keeps its tokens working for at most that long.)
  static constexpr absl::Duration kVerifiedFor = absl::Seconds(60);
  static constexpr size_t kMaxVerified = 10000;  // then the memory starts over
  struct Verified {
    Principal principal;
    absl::Time until;
  };
  std::optional<Principal> Remembered(std::string_view token, absl::Time now) const;
  void Remember(std::string_view token, const Principal& principal, absl::Time until) const;

  JwtVerifier users_;
  std::optional<JwtVerifier> services_;
  mutable absl::Mutex verified_mu_;
  mutable absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(verified_mu_);
};

// A token of the service identity for `service` ("pipeline"), valid for kServiceTokenLifetime.
std::string MintServiceToken(absl::string_view service, absl::string_view service_secret);

// Reads an option value that may be given inline or as "@/path/to/file".
absl::StatusOr<std::string> ReadSecret(absl::string_view value);

}  // namespace crm::auth
