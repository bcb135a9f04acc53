#include "common/auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/status_macros.h"

namespace crm::auth {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kHs256 = "HS256";
constexpr std::string_view kRs256 = "RS256";
constexpr int kMinRsaBits = 2048;  // RFC 7518 §3.3.

// Debian's Abseil is built with its own absl::string_view rather than an alias of
// std::string_view, so views must be converted explicitly at the boundary.
absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view FromAbsl(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// --- base64url without padding (RFC 4648 §5, RFC 7515 §2) ---

constexpr char kBase64UrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64UrlAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kBase64UrlAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;  // Includes '=', '+', '/' and whitespace: JWS forbids them.
}

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  // A single leftover character carries only 6 bits, which cannot end a valid encoding.
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int value = Base64UrlValue(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Unused trailing bits must be zero, so that every byte string has exactly one accepted
  // encoding and a token cannot be altered without breaking its signature.
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// --- OpenSSL helpers ---

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Without a callback OpenSSL would prompt for a passphrase on the terminal for encrypted keys.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

enum class KeyKind { kPublic, kPrivate };

absl::StatusOr<PkeyPtr> ReadRsaPem(std::string_view pem, KeyKind kind) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("PEM key is too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  PkeyPtr key(kind == KeyKind::kPublic
                  ? PEM_read_bio_PUBKEY(bio.get(), nullptr, RefusePassphrase, nullptr)
                  : PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase, nullptr));
  // Failures leave entries on the thread's error queue; drop them so they cannot confuse a later,
  // unrelated OpenSSL caller on this thread.
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(kind == KeyKind::kPublic
                                          ? "not a PEM SubjectPublicKeyInfo public key"
                                          : "not an unencrypted PEM private key");
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) {
    return absl::InvalidArgumentError("RS256 requires an RSA key");
  }
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RS256 requires an RSA key of at least ", kMinRsaBits, " bits"));
  }
  return key;
}

// Returns the raw 32-byte MAC, or an empty string if OpenSSL fails (which then never verifies).
std::string HmacSha256(std::string_view key, std::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return "";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), Bytes(data), data.size(), mac,
           &mac_size) == nullptr) {
    ERR_clear_error();
    return "";
  }
  return std::string(reinterpret_cast<const char*>(mac), mac_size);
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1;
  ok = ok && EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data),
                              data.size()) == 1;
  if (!ok) ERR_clear_error();  // A bad signature queues an error too; see ReadRsaPem.
  return ok;
}

// --- JSON ---

// Claims may hold arbitrary bytes but JSON needs UTF-8; replacing keeps dump() from throwing.
std::string DumpJson(const Json& json) {
  return json.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                   Json::error_handler_t::replace);
}

// Builds "<header>.<payload>", the JWS signing input.
std::string SigningInput(std::string_view alg, const Claims& claims) {
  const Json header = {{"alg", alg}, {"typ", "JWT"}};
  const Json payload = {
      {"sub", claims.subject},
      {"tenant", claims.tenant},
      {"roles", claims.roles},
      {"exp", absl::ToUnixSeconds(claims.expires)},
  };
  return absl::StrCat(Base64UrlEncode(DumpJson(header)), ".", Base64UrlEncode(DumpJson(payload)));
}

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

absl::Status CheckHeader(const Json& header, std::string_view expected_alg) {
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Unauthenticated("header has no alg");
  const std::string& alg_name = alg->get_ref<const std::string&>();
  if (absl::EqualsIgnoreCase(alg_name, "none")) {
    return Unauthenticated("unsigned tokens (alg none) are not accepted");
  }
  if (alg_name != expected_alg) {
    return Unauthenticated(
        absl::StrCat("alg does not match the configured ", ToAbsl(expected_alg)));
  }
  // RFC 7515 §4.1.9: typ is a media type, so compare case-insensitively.
  const auto typ = header.find("typ");
  if (typ != header.end() &&
      !(typ->is_string() && absl::EqualsIgnoreCase(typ->get_ref<const std::string&>(), "JWT"))) {
    return Unauthenticated("typ must be JWT when present");
  }
  // RFC 7515 §4.1.11: we understand no extensions, so any "crit" must be rejected.
  if (header.contains("crit")) return Unauthenticated("unsupported crit header parameter");
  return absl::OkStatus();
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

// Returns the non-empty string claim `name`.
absl::StatusOr<std::string> RequiredString(const Json& payload, std::string_view name) {
  const auto it = payload.find(name);
  if (it == payload.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Unauthenticated(absl::StrCat(ToAbsl(name), " claim is missing or empty"));
  }
  return it->get<std::string>();
}

absl::StatusOr<Claims> ClaimsFromPayload(const Json& payload, absl::Time now) {
  Claims claims;
  ASSIGN_OR_RETURN(claims.subject, RequiredString(payload, "sub"));
  ASSIGN_OR_RETURN(claims.tenant, RequiredString(payload, "tenant"));

  if (const auto roles = payload.find("roles"); roles != payload.end()) {
    if (!roles->is_array()) return Unauthenticated("roles claim is not an array");
    for (const Json& role : *roles) {
      if (!role.is_string()) return Unauthenticated("roles claim has a non-string element");
      claims.roles.push_back(role.get<std::string>());
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
  if (secret.empty()) return absl::InvalidArgumentError("HS256 secret must not be empty");
  return JwtVerifier(Algorithm::kHs256, std::move(secret), nullptr);
}

absl::StatusOr<JwtVerifier> JwtVerifier::ForRs256PublicKeyPem(std::string_view pem) {
  ASSIGN_OR_RETURN(PkeyPtr key, ReadRsaPem(pem, KeyKind::kPublic));
  return JwtVerifier(Algorithm::kRs256, "", std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree()));
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

  ASSIGN_OR_RETURN(const Json header, ParseJsonObject(*header_json, "header"));
  const std::string_view expected_alg = algorithm_ == Algorithm::kHs256 ? kHs256 : kRs256;
  RETURN_IF_ERROR(CheckHeader(header, expected_alg));

  // The payload is only parsed once the signature shows it comes from a key holder.
  bool signature_ok = false;
  if (algorithm_ == Algorithm::kHs256) {
    const std::string expected = HmacSha256(secret_, signing_input);
    // CRYPTO_memcmp takes time independent of where the bytes differ; the length is public.
    signature_ok = !expected.empty() && signature->size() == expected.size() &&
                   CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) == 0;
  } else {
    signature_ok = VerifyRs256(public_key_.get(), signing_input, *signature);
  }
  if (!signature_ok) return Unauthenticated("signature does not verify");

  ASSIGN_OR_RETURN(const Json payload, ParseJsonObject(*payload_json, "payload"));
  return ClaimsFromPayload(payload, now);
}

std::string SignHs256(const Claims& claims, std::string_view secret) {
  const std::string input = SigningInput(kHs256, claims);
  return absl::StrCat(input, ".", Base64UrlEncode(HmacSha256(secret, input)));
}

absl::StatusOr<std::string> SignRs256(const Claims& claims, std::string_view private_key_pem) {
  ASSIGN_OR_RETURN(PkeyPtr key, ReadRsaPem(private_key_pem, KeyKind::kPrivate));
  const std::string input = SigningInput(kRs256, claims);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, Bytes(input), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("RS256 signing failed to start");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     Bytes(input), input.size()) != 1) {
    ERR_clear_error();
    return absl::InternalError("RS256 signing failed");
  }
  signature.resize(size);
  return absl::StrCat(input, ".", Base64UrlEncode(signature));
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

}  // namespace crm::auth
