#include "common/auth/authenticator.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace crm::auth {

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthOptions& options) {
  if (options.hs256_secret.empty() == options.rs256_public_key_pem.empty()) {
    return absl::InvalidArgumentError(
        "configure exactly one of the JWT HS256 secret and the RS256 public key");
  }
  if (!options.hs256_secret.empty()) {
    ASSIGN_OR_RETURN(JwtVerifier verifier, JwtVerifier::ForHs256Secret(options.hs256_secret));
    return std::unique_ptr<Authenticator>(new Authenticator(std::move(verifier)));
  }
  ASSIGN_OR_RETURN(JwtVerifier verifier,
                   JwtVerifier::ForRs256PublicKeyPem(options.rs256_public_key_pem));
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(verifier)));
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing authorization metadata: send 'Bearer <token>'");
  }
  return AuthenticateBearer(absl::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<Principal> Authenticator::AuthenticateBearer(absl::string_view authorization) const {
  ASSIGN_OR_RETURN(std::string_view token,
                   BearerToken(std::string_view(authorization.data(), authorization.size())));
  ASSIGN_OR_RETURN(Claims claims, verifier_.Verify(token, absl::Now()));
  Principal principal;
  principal.user = claims.subject;
  principal.tenant = claims.tenant;
  principal.rep = claims.HasRole("rep");
  principal.manager = claims.HasRole("manager");
  principal.admin = claims.HasRole("admin");
  principal.service = claims.HasRole("service");
  if (!principal.rep && !principal.manager && !principal.admin && !principal.service) {
    return absl::PermissionDeniedError("token has no known role (rep, manager, admin or service)");
  }
  return principal;
}

absl::StatusOr<std::string> ReadSecret(absl::string_view value) {
  if (!absl::StartsWith(value, "@")) return std::string(value);
  const std::string path(value.substr(1));
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read secret file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string content = buffer.str();
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
  return content;
}

}  // namespace crm::auth
