#include "common/auth/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <climits>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/auth/base64url.h"
#include "common/base/status_macros.h"

namespace crm::auth {
namespace {

using Json = nlohmann::json;

constexpr int kMinRsaBits = 2048;  // RFC 7518 §3.3.
constexpr size_t kP256CoordinateBytes = 32;
// The value deploy/k8s ships in its secret placeholders: a process must not start with it.
constexpr char kPlaceholder[] = "replace-me";

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Without a callback OpenSSL would prompt for a passphrase on the terminal for encrypted keys.
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

std::shared_ptr<EVP_PKEY> Shared(PkeyPtr key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), PkeyFree());
}

// RS256 for an RSA key of at least 2048 bits, ES256 for a P-256 key; anything else refused.
absl::StatusOr<Algorithm> AlgorithmOf(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < kMinRsaBits) {
      return absl::InvalidArgumentError(
          absl::StrCat("RS256 requires an RSA key of at least ", kMinRsaBits, " bits"));
    }
    return Algorithm::kRs256;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {0};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &length) == 1 &&
        std::string_view(group, length) == "prime256v1") {
      return Algorithm::kEs256;
    }
    ERR_clear_error();
    return absl::InvalidArgumentError("ES256 requires an EC key on the P-256 curve");
  }
  return absl::InvalidArgumentError("the key must be RSA (RS256) or EC P-256 (ES256)");
}

absl::StatusOr<PkeyPtr> ReadPem(std::string_view pem, bool private_key) {
  if (pem.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("PEM key is too large");
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::InternalError("BIO_new_mem_buf failed");
  PkeyPtr key(private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase, nullptr)
                          : PEM_read_bio_PUBKEY(bio.get(), nullptr, RefusePassphrase, nullptr));
  // Failures leave entries on the thread's error queue; drop them so they cannot confuse a later,
  // unrelated OpenSSL caller on this thread.
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(private_key ? "not an unencrypted PEM private key"
                                                  : "not a PEM SubjectPublicKeyInfo public key");
  }
  return key;
}

}  // namespace

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

namespace {

bool DigestVerify(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1;
  ok = ok && EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(data),
                              data.size()) == 1;
  if (!ok) ERR_clear_error();  // A bad signature queues an error too.
  return ok;
}

// JWS carries an ES256 signature as R || S, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER.
std::string EcdsaDer(std::string_view raw) {
  if (raw.size() != 2 * kP256CoordinateBytes) return "";
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(Bytes(raw), kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(raw.substr(kP256CoordinateBytes)), kP256CoordinateBytes, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return "";
  }
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) return "";
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  return out;
}

// A JWK member holding a base64url big-endian number or octet string.
absl::StatusOr<std::string> JwkBytes(const Json& jwk, const char* member) {
  const auto it = jwk.find(member);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("JWK member \"", member, "\" is missing"));
  }
  std::optional<std::string> bytes = Base64UrlDecode(it->get_ref<const std::string&>());
  if (!bytes.has_value() || bytes->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK member \"", member, "\" is not unpadded base64url"));
  }
  return *std::move(bytes);
}

absl::StatusOr<PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("not a valid ", type, " public key"));
  }
  PkeyPtr key(raw);
  // The point must lie on the curve (an invalid-curve point would leak nothing here, since we only
  // verify, but a key that cannot be valid is a configuration mistake worth refusing).
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat("not a valid ", type, " public key"));
  }
  return key;
}

absl::StatusOr<PkeyPtr> RsaFromJwk(const Json& jwk) {
  ASSIGN_OR_RETURN(const std::string n, JwkBytes(jwk, "n"));
  ASSIGN_OR_RETURN(const std::string e, JwkBytes(jwk, "e"));
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(Bytes(n), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(Bytes(e), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bn_n == nullptr || bn_e == nullptr || bld == nullptr ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a valid RSA public key");
  }
  return FromParams("RSA", bld.get());
}

absl::StatusOr<PkeyPtr> P256FromJwk(const Json& jwk) {
  const auto crv = jwk.find("crv");
  if (crv == jwk.end() || *crv != "P-256") {
    return absl::InvalidArgumentError("only EC keys on P-256 are supported");
  }
  ASSIGN_OR_RETURN(const std::string x, JwkBytes(jwk, "x"));
  ASSIGN_OR_RETURN(const std::string y, JwkBytes(jwk, "y"));
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes) {
    return absl::InvalidArgumentError("P-256 coordinates are 32 bytes each");
  }
  const std::string point = absl::StrCat("\x04", x, y);  // uncompressed (SEC 1 §2.3.3)
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (bld == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a valid EC public key");
  }
  return FromParams("EC", bld.get());
}

absl::StatusOr<VerificationKey> KeyFromJwk(const Json& jwk) {
  if (!jwk.is_object()) return absl::InvalidArgumentError("a JWK is not an object");
  if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") {
    return absl::InvalidArgumentError("not a signing key");
  }
  const auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string()) return absl::InvalidArgumentError("no kty");
  PkeyPtr key;
  if (*kty == "RSA") {
    ASSIGN_OR_RETURN(key, RsaFromJwk(jwk));
  } else if (*kty == "EC") {
    ASSIGN_OR_RETURN(key, P256FromJwk(jwk));
  } else {
    return absl::InvalidArgumentError("unsupported kty");
  }
  VerificationKey out;
  ASSIGN_OR_RETURN(out.algorithm, AlgorithmOf(key.get()));
  if (const auto alg = jwk.find("alg");
      alg != jwk.end() && (!alg->is_string() || *alg != AlgorithmName(out.algorithm))) {
    return absl::InvalidArgumentError("alg does not fit the key");
  }
  if (const auto kid = jwk.find("kid"); kid != jwk.end()) {
    if (!kid->is_string()) return absl::InvalidArgumentError("kid is not a string");
    out.kid = kid->get<std::string>();
  }
  out.public_key = Shared(std::move(key));
  return out;
}

}  // namespace

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHs256:
      return "HS256";
    case Algorithm::kRs256:
      return "RS256";
    case Algorithm::kEs256:
      return "ES256";
  }
  return "";
}

bool VerificationKey::Verifies(std::string_view signing_input, std::string_view signature) const {
  switch (algorithm) {
    case Algorithm::kHs256: {
      const std::string expected = HmacSha256(secret, signing_input);
      // CRYPTO_memcmp takes time independent of where the bytes differ; the length is public.
      return !expected.empty() && signature.size() == expected.size() &&
             CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
    }
    case Algorithm::kRs256:
      return DigestVerify(public_key.get(), signing_input, signature);
    case Algorithm::kEs256: {
      const std::string der = EcdsaDer(signature);
      return !der.empty() && DigestVerify(public_key.get(), signing_input, der);
    }
  }
  return false;
}

const VerificationKey* KeySet::Find(std::string_view kid, std::string_view alg) const {
  const VerificationKey* only = nullptr;
  int of_alg = 0;
  for (const VerificationKey& key : keys_) {
    if (AlgorithmName(key.algorithm) != alg) continue;
    if (!kid.empty() && key.kid == kid) return &key;
    ++of_alg;
    only = &key;
  }
  // A token without kid is accepted only where there is no doubt which key signed it.
  return kid.empty() && of_alg == 1 ? only : nullptr;
}

absl::StatusOr<VerificationKey> Hs256Key(std::string secret) {
  if (secret.size() < kMinHs256SecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat("an HS256 secret needs at least ",
                                                   kMinHs256SecretBytes, " bytes (got ",
                                                   secret.size(), "); use openssl rand -hex 32"));
  }
  if (absl::StrContains(secret, kPlaceholder)) {
    return absl::InvalidArgumentError(
        "the HS256 secret is the deploy/k8s placeholder: set a real secret");
  }
  VerificationKey key;
  key.algorithm = Algorithm::kHs256;
  key.secret = std::move(secret);
  return key;
}

absl::StatusOr<VerificationKey> PublicKeyFromPem(std::string_view pem) {
  ASSIGN_OR_RETURN(PkeyPtr key, ReadPem(pem, /*private_key=*/false));
  VerificationKey out;
  ASSIGN_OR_RETURN(out.algorithm, AlgorithmOf(key.get()));
  out.public_key = Shared(std::move(key));
  return out;
}

absl::StatusOr<std::vector<VerificationKey>> KeysFromJwks(std::string_view json) {
  const Json document = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object() || !document.contains("keys") ||
      !document["keys"].is_array()) {
    return absl::InvalidArgumentError("a JWKS document is an object with a \"keys\" array");
  }
  std::vector<VerificationKey> keys;
  for (const Json& jwk : document["keys"]) {
    absl::StatusOr<VerificationKey> key = KeyFromJwk(jwk);
    if (key.ok()) keys.push_back(*std::move(key));  // others are for other uses or algorithms
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError("the JWKS document has no RS256 or ES256 signing key");
  }
  return keys;
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> PrivateKeyFromPem(std::string_view pem) {
  ASSIGN_OR_RETURN(PkeyPtr key, ReadPem(pem, /*private_key=*/true));
  RETURN_IF_ERROR(AlgorithmOf(key.get()).status());
  return Shared(std::move(key));
}

}  // namespace crm::auth
