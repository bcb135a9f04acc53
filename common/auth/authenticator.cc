#include "common/auth/authenticator.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"

namespace crm::auth {
namespace {

absl::StatusOr<JwtVerifier> UserVerifier(const AuthOptions& options) {
  const int sources =
      !options.hs256_secret.empty() + !options.public_key_pem.empty() + !options.jwks_file.empty();
  if (sources != 1) {
    return absl::InvalidArgumentError(
        "configure exactly one source of user token keys: the HS256 secret (--jwt_secret), a "
        "public key (--jwt_public_key) or a JWKS file (--jwt_jwks_file)");
  }
  absl::StatusOr<JwtVerifier> verifier =
      !options.hs256_secret.empty()     ? JwtVerifier::ForHs256Secret(options.hs256_secret)
      : !options.public_key_pem.empty() ? JwtVerifier::ForPublicKeyPem(options.public_key_pem)
                                        : JwtVerifier::ForJwksFile(options.jwks_file);
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("user token keys: ", verifier.status().message()));
  }
  return verifier->WithPolicy({.issuer = options.issuer,
                               .audience = options.audience,
                               .max_lifetime = options.max_user_token_lifetime});
}

absl::StatusOr<std::optional<JwtVerifier>> ServiceVerifier(const AuthOptions& options) {
  if (options.service_secret.empty()) return std::optional<JwtVerifier>();
  if (options.service_secret == options.hs256_secret) {
    return absl::InvalidArgumentError(
        "the service secret must differ from the user token secret: whoever mints user tokens "
        "must not be able to mint the service identity");
  }
  absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForHs256Secret(options.service_secret);
  if (!verifier.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service secret: ", verifier.status().message()));
  }
  return std::optional<JwtVerifier>(verifier->WithPolicy({.issuer = kServiceIssuer,
                                                          .audience = kServiceIssuer,
                                                          .max_lifetime = kServiceTokenLifetime,
                                                          .require_tenant = false}));
}

absl::StatusOr<absl::string_view> AuthorizationOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing authorization metadata: send 'Bearer <token>'");
  }
  return absl::string_view(it->second.data(), it->second.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthOptions& options) {
  ASSIGN_OR_RETURN(JwtVerifier users, UserVerifier(options));
  ASSIGN_OR_RETURN(std::optional<JwtVerifier> services, ServiceVerifier(options));
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(users), std::move(services)));
}

absl::StatusOr<Principal> Authenticator::Verify(absl::string_view authorization) const {
  ASSIGN_OR_RETURN(std::string_view token,
                   BearerToken(std::string_view(authorization.data(), authorization.size())));
  const absl::Time now = absl::Now();
  if (std::optional<Principal> known = Remembered(token, now)) return *known;
  if (services_.has_value()) {
    if (absl::StatusOr<Claims> claims = services_->Verify(token, now); claims.ok()) {
      Principal principal;
      principal.user = claims->subject;
      principal.service = true;
      Remember(token, principal, std::min(claims->expires, now + kVerifiedFor));
      return principal;
    }
  }
  ASSIGN_OR_RETURN(Claims claims, users_.Verify(token, now));
  if (claims.HasRole(Role::kService)) {
    return absl::UnauthenticatedError(
        "invalid JWT: the service role is not granted by user tokens");
  }
  Principal principal;
  principal.user = claims.subject;
  principal.tenant = claims.tenant;
  principal.rep = claims.HasRole(Role::kRep);
  principal.manager = claims.HasRole(Role::kManager);
  principal.admin = claims.HasRole(Role::kAdmin);
  if (!principal.rep && !principal.manager && !principal.admin) {
    return absl::PermissionDeniedError("token has no known role (rep, manager or admin)");
  }
  Remember(token, principal, std::min(claims.expires, now + kVerifiedFor));
  return principal;
}

std::optional<Principal> Authenticator::Remembered(std::string_view token, absl::Time now) const {
  absl::MutexLock lock(&verified_mu_);
  auto it = verified_.find(absl::string_view(token.data(), token.size()));
  if (it == verified_.end()) return std::nullopt;
  if (now >= it->second.until) {
    verified_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

void Authenticator::Remember(std::string_view token, const Principal& principal,
                             absl::Time until) const {
  absl::MutexLock lock(&verified_mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_[std::string(token)] = {principal, until};
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  ASSIGN_OR_RETURN(absl::string_view authorization, AuthorizationOf(context));
  return AuthenticateBearer(authorization);
}

absl::StatusOr<Principal> Authenticator::AuthenticateBearer(absl::string_view authorization) const {
  ASSIGN_OR_RETURN(Principal principal, Verify(authorization));
  if (principal.service) {
    return absl::PermissionDeniedError(
        "the service identity only follows event streams; call as a user");
  }
  return principal;
}

absl::StatusOr<Principal> Authenticator::AuthenticateService(
    const grpc::ServerContextBase& context) const {
  ASSIGN_OR_RETURN(absl::string_view authorization, AuthorizationOf(context));
  return AuthenticateServiceBearer(authorization);
}

absl::StatusOr<Principal> Authenticator::AuthenticateServiceBearer(
    absl::string_view authorization) const {
  ASSIGN_OR_RETURN(Principal principal, Verify(authorization));
  if (!principal.service) {
    return absl::PermissionDeniedError(
        "only the service identity may do this (user tokens see their own data through the "
        "service APIs)");
  }
  return principal;
}

std::string MintServiceToken(absl::string_view service, absl::string_view service_secret) {
  Claims claims;
  claims.subject = std::string(service);
  claims.issuer = kServiceIssuer;
  claims.audiences = {kServiceIssuer};
  claims.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  claims.expires = *claims.issued_at + kServiceTokenLifetime;
  return SignHs256(claims, std::string_view(service_secret.data(), service_secret.size()));
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
