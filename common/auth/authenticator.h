// Turns the `authorization: Bearer <JWT>` metadata of a gRPC call into a verified Principal.
//
// The tenant comes from the verified token only; no request field can name another tenant.
#pragma once

#include <grpcpp/server_context.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/jwt.h"

namespace crm::auth {

// Who is calling, from a verified token.
struct Principal {
  std::string user;    // `sub`
  std::string tenant;  // `tenant`
  bool rep = false;
  bool manager = false;
  bool admin = false;
  bool service = false;  // other backend services: may act across tenants where an API says so

  // Managers and admins may change any record of their tenant; reps only their own.
  bool CanChangeOwnedBy(absl::string_view owner) const {
    return manager || admin || service || owner == user;
  }
  bool IsAdmin() const { return admin; }
};

struct AuthOptions {
  // HS256 shared secret (local runs). Exactly one of the two must be set.
  std::string hs256_secret;
  // RS256 public key, PEM (production: the identity provider's key).
  std::string rs256_public_key_pem;
};

class Authenticator final {
 public:
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const AuthOptions& options);

  // UNAUTHENTICATED for a missing, malformed, forged or expired token, or one without tenant.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;
  absl::StatusOr<Principal> AuthenticateBearer(absl::string_view authorization) const;

 private:
  explicit Authenticator(JwtVerifier verifier) : verifier_(std::move(verifier)) {}
  JwtVerifier verifier_;
};

// Reads an option value that may be given inline or as "@/path/to/file".
absl::StatusOr<std::string> ReadSecret(absl::string_view value);

}  // namespace crm::auth
