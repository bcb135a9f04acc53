#include "common/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth/base64url.h"
#include "common/base/status_macros.h"

namespace crm::auth {
namespace {

using Json = nlohmann::json;

// Debian's Abseil is built with its own absl::string_view rather than an alias of
// std::string_view, so views must be converted explicitly at the boundary.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view FromAbsl(absl::string_view s) { return std::string_view(s.data(), s.size()); }

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// --- signing ---

// Claims may hold arbitrary bytes but JSON needs UTF-8; replacing keeps dump() from throwing.
std::string DumpJson(const Json& json) {
  return json.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                   Json::error_handler_t::replace);
}

// Builds "<header>.<payload>", the JWS signing input.
std::string SigningInput(Algorithm alg, const Claims& claims, std::string_view kid) {
  Json header = {{"alg", AlgorithmName(alg)}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  Json payload = {
      {"sub", claims.subject},
      {"roles", claims.roles},
      {"exp", absl::ToUnixSeconds(claims.expires)},
  };
  if (!claims.tenant.empty()) payload["tenant"] = claims.tenant;
  if (!claims.issuer.empty()) payload["iss"] = claims.issuer;
  if (claims.audiences.size() == 1) payload["aud"] = claims.audiences.front();
  if (claims.audiences.size() > 1) payload["aud"] = claims.audiences;
  if (claims.issued_at.has_value()) payload["iat"] = absl::ToUnixSeconds(*claims.issued_at);
  return absl::StrCat(Base64UrlEncode(DumpJson(header)), ".", Base64UrlEncode(DumpJson(payload)));
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

absl::StatusOr<std::string> DigestSign(EVP_PKEY* key, std::string_view input) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(input), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("signing failed to start");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     Bytes(input), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("signing failed");
  }
  signature.resize(size);
  return signature;
}

// OpenSSL's DER ECDSA signature as JWS wants it: R || S, each left-padded to 32 bytes.
absl::StatusOr<std::string> RawEcdsa(std::string_view der) {
  const unsigned char* p = Bytes(der);
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (sig == nullptr) {
    ERR_clear_error();
    return absl::InternalError("unreadable ECDSA signature");
  }
  std::string out(64, '\0');
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(out.data()), 32) !=
          32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(out.data()) + 32,
                   32) != 32) {
    return absl::InternalError("ECDSA signature does not fit P-256");
  }
  return out;
}

absl::StatusOr<std::string> SignWithPem(Algorithm alg, const Claims& claims,
                                        std::string_view private_key_pem, std::string_view kid) {
  ASSIGN_OR_RETURN(std::shared_ptr<EVP_PKEY> key, PrivateKeyFromPem(private_key_pem));
  const bool rsa = EVP_PKEY_is_a(key.get(), "RSA");
  if (rsa != (alg == Algorithm::kRs256)) {
    return absl::InvalidArgumentError(absl::StrCat(ToAbsl(AlgorithmName(alg)), " needs ",
                                                   rsa ? "an EC P-256" : "an RSA", " key"));
  }
  const std::string input = SigningInput(alg, claims, kid);
  ASSIGN_OR_RETURN(std::string signature, DigestSign(key.get(), input));
  if (alg == Algorithm::kEs256) {
    ASSIGN_OR_RETURN(signature, RawEcdsa(signature));
  }
  return absl::StrCat(input, ".", Base64UrlEncode(signature));
}

// --- verification ---

absl::Status Unauthenticated(std::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("invalid JWT: ", ToAbsl(why)));
}

absl::StatusOr<Json> ParseJsonObject(std::string_view text, std::string_view what) {
  Json json = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Unauthenticated(absl::StrCat(ToAbsl(what), " is not a JSON object"));
  }
  return json;
}

struct Header {
  std::string alg;
  std::string kid;
};

absl::StatusOr<Header> CheckHeader(const Json& header) {
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Unauthenticated("header has no alg");
  Header out;
  out.alg = alg->get<std::string>();
  if (absl::EqualsIgnoreCase(out.alg, "none")) {
    return Unauthenticated("unsigned tokens (alg none) are not accepted");
  }
  // RFC 7515 §4.1.9: typ is a media type, so compare case-insensitively.
  const auto typ = header.find("typ");
  if (typ != header.end() &&
      !(typ->is_string() && absl::EqualsIgnoreCase(typ->get_ref<const std::string&>(), "JWT"))) {
    return Unauthenticated("typ must be JWT when present");
  }
  // RFC 7515 §4.1.11: we understand no extensions, so any "crit" must be rejected.
  if (header.contains("crit")) return Unauthenticated("unsupported crit header parameter");
  if (const auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string()) return Unauthenticated("kid is not a string");
    out.kid = kid->get<std::string>();
  }
  return out;
}

// Reads a NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
std::optional<absl::Time> NumericDate(const Json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t seconds = value.get<uint64_t>();
    if (seconds > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return absl::InfiniteFuture();
    }
    return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  }
  if (value.is_number_integer()) return absl::FromUnixSeconds(value.get<int64_t>());
  if (value.is_number_float()) {
    const double seconds = value.get<double>();
    if (!std::isfinite(seconds)) return std::nullopt;
    return absl::UnixEpoch() + absl::Seconds(seconds);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> StringClaim(const Json& payload, std::string_view name, bool required) {
  const auto it = payload.find(name);
  if (it == payload.end() && !required) return std::string();
  if (it == payload.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Unauthenticated(absl::StrCat(ToAbsl(name), " claim is missing or empty"));
  }
  return it->get<std::string>();
}

absl::StatusOr<Claims> ClaimsFromPayload(const Json& payload, absl::Time now,
                                         const TokenPolicy& policy) {
  Claims claims;
  ASSIGN_OR_RETURN(claims.subject, StringClaim(payload, "sub", /*required=*/true));
  ASSIGN_OR_RETURN(claims.tenant, StringClaim(payload, "tenant", policy.require_tenant));
  ASSIGN_OR_RETURN(claims.issuer, StringClaim(payload, "iss", !policy.issuer.empty()));

  if (const auto roles = payload.find("roles"); roles != payload.end()) {
    if (!roles->is_array()) return Unauthenticated("roles claim is not an array");
    for (const Json& role : *roles) {
      if (!role.is_string()) return Unauthenticated("roles claim has a non-string element");
      claims.roles.push_back(role.get<std::string>());
    }
  }
  if (const auto aud = payload.find("aud"); aud != payload.end()) {
    if (aud->is_string()) {
      claims.audiences.push_back(aud->get<std::string>());
    } else if (aud->is_array()) {
      for (const Json& a : *aud) {
        if (!a.is_string()) return Unauthenticated("aud claim has a non-string element");
        claims.audiences.push_back(a.get<std::string>());
      }
    } else {
      return Unauthenticated("aud claim is neither a string nor an array");
    }
  }

  const auto exp = payload.find("exp");
  if (exp == payload.end()) return Unauthenticated("exp claim is missing");
  const std::optional<absl::Time> expires = NumericDate(*exp);
  if (!expires.has_value()) return Unauthenticated("exp claim is not a number");
  if (*expires <= now) return Unauthenticated("token has expired");
  claims.expires = *expires;

  if (const auto nbf = payload.find("nbf"); nbf != payload.end()) {
    const std::optional<absl::Time> not_before = NumericDate(*nbf);
    if (!not_before.has_value()) return Unauthenticated("nbf claim is not a number");
    if (now < *not_before) return Unauthenticated("token is not valid yet");
  }
  if (const auto iat = payload.find("iat"); iat != payload.end()) {
    claims.issued_at = NumericDate(*iat);
    if (!claims.issued_at.has_value()) return Unauthenticated("iat claim is not a number");
  }

  if (!policy.issuer.empty() && claims.issuer != policy.issuer) {
    return Unauthenticated("iss is not the configured issuer");
  }
  if (!policy.audience.empty() && std::find(claims.audiences.begin(), claims.audiences.end(),
                                            policy.audience) == claims.audiences.end()) {
    return Unauthenticated("aud does not name this service");
  }
  if (policy.max_lifetime != absl::InfiniteDuration()) {
    const bool too_long =
        claims.expires - now > policy.max_lifetime ||
        (claims.issued_at.has_value() && claims.expires - *claims.issued_at > policy.max_lifetime);
    if (too_long) {
      return Unauthenticated(absl::StrCat("token lifetime exceeds the allowed ",
                                          absl::FormatDuration(policy.max_lifetime)));
    }
  }
  return claims;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRep:
      return "rep";
    case Role::kManager:
      return "manager";
    case Role::kAdmin:
      return "admin";
    case Role::kService:
      return "service";
  }
  return "";
}

bool Claims::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

absl::StatusOr<JwtVerifier> JwtVerifier::ForHs256Secret(std::string secret) {
  ASSIGN_OR_RETURN(VerificationKey key, Hs256Key(std::move(secret)));
  return JwtVerifier(KeySource::Fixed({std::move(key)}));
}

absl::StatusOr<JwtVerifier> JwtVerifier::ForRs256PublicKeyPem(std::string_view pem) {
  ASSIGN_OR_RETURN(VerificationKey key, PublicKeyFromPem(pem));
  if (key.algorithm != Algorithm::kRs256) {
    return absl::InvalidArgumentError("RS256 requires an RSA key");
  }
  return JwtVerifier(KeySource::Fixed({std::move(key)}));
}

absl::StatusOr<JwtVerifier> JwtVerifier::ForPublicKeyPem(std::string_view pem) {
  ASSIGN_OR_RETURN(VerificationKey key, PublicKeyFromPem(pem));
  return JwtVerifier(KeySource::Fixed({std::move(key)}));
}

absl::StatusOr<JwtVerifier> JwtVerifier::ForJwksFile(std::string path) {
  ASSIGN_OR_RETURN(std::shared_ptr<KeySource> keys, KeySource::JwksFile(std::move(path)));
  return JwtVerifier(std::move(keys));
}

absl::StatusOr<Claims> JwtVerifier::Verify(std::string_view token, absl::Time now) const {
  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return Unauthenticated("token must have three dot-separated parts");
  }
  const std::string_view signing_input = token.substr(0, second_dot);
  const std::optional<std::string> header_json = Base64UrlDecode(token.substr(0, first_dot));
  const std::optional<std::string> payload_json =
      Base64UrlDecode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  const std::optional<std::string> signature = Base64UrlDecode(token.substr(second_dot + 1));
  if (!header_json.has_value() || !payload_json.has_value() || !signature.has_value()) {
    return Unauthenticated("token part is not unpadded base64url");
  }

  ASSIGN_OR_RETURN(const Json header_object, ParseJsonObject(*header_json, "header"));
  ASSIGN_OR_RETURN(const Header header, CheckHeader(header_object));
  const std::shared_ptr<const KeySet> keys = keys_->Keys();
  const VerificationKey* key = keys->Find(header.kid, header.alg);
  if (key == nullptr) {
    return Unauthenticated(header.kid.empty() ? "no configured key for the token's alg"
                                              : "no configured key for the token's kid and alg");
  }
  // The payload is only parsed once the signature shows it comes from a key holder.
  if (!key->Verifies(signing_input, *signature)) {
    return Unauthenticated("signature does not verify");
  }
  ASSIGN_OR_RETURN(const Json payload, ParseJsonObject(*payload_json, "payload"));
  return ClaimsFromPayload(payload, now, policy_);
}

std::string SignHs256(const Claims& claims, std::string_view secret, std::string_view kid) {
  const std::string input = SigningInput(Algorithm::kHs256, claims, kid);
  return absl::StrCat(input, ".", Base64UrlEncode(HmacSha256(secret, input)));
}

absl::StatusOr<std::string> SignRs256(const Claims& claims, std::string_view private_key_pem,
                                      std::string_view kid) {
  return SignWithPem(Algorithm::kRs256, claims, private_key_pem, kid);
}

absl::StatusOr<std::string> SignEs256(const Claims& claims, std::string_view private_key_pem,
                                      std::string_view kid) {
  return SignWithPem(Algorithm::kEs256, claims, private_key_pem, kid);
}

absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header) {
  const std::string_view value = FromAbsl(absl::StripAsciiWhitespace(ToAbsl(authorization_header)));
  const size_t space = value.find(' ');
  if (space == std::string_view::npos ||
      !absl::EqualsIgnoreCase(ToAbsl(value.substr(0, space)), "bearer")) {
    return absl::UnauthenticatedError("authorization is not \"Bearer <token>\"");
  }
  // RFC 6750 §2.1 allows one or more spaces after the scheme.
  const std::string_view token =
      FromAbsl(absl::StripLeadingAsciiWhitespace(ToAbsl(value.substr(space + 1))));
  if (token.empty()) return absl::UnauthenticatedError("bearer token is empty");
  if (std::any_of(token.begin(), token.end(), [](char c) { return absl::ascii_isspace(c); })) {
    return absl::UnauthenticatedError("bearer token contains whitespace");
  }
  return token;
}

bool LooksLikeJws(std::string_view token) {
  int dots = 0;
  char previous = '.';
  for (char c : token) {
    if (c == '.') {
      if (previous == '.') return false;  // an empty part
      ++dots;
    } else if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return false;
    }
    previous = c;
  }
  return dots == 2 && previous != '.';
}

}  // namespace crm::auth
