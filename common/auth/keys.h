// The keys that verify token signatures: an HS256 secret (local runs), an RS256 or ES256 public
// key in PEM, or the signing keys of a JWKS document (RFC 7517), as an OpenID provider (Keycloak,
// Auth0, ...) publishes them. A key fixes its algorithm: a token's "alg" header only has to agree
// with it, it never picks how the signature is checked.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace crm::auth {

enum class Algorithm { kHs256, kRs256, kEs256 };

// "HS256", "RS256", "ES256".
std::string_view AlgorithmName(Algorithm algorithm);

// HS256 secrets shorter than this are refused (RFC 7518 §3.2: at least the hash size).
inline constexpr size_t kMinHs256SecretBytes = 32;

struct VerificationKey {
  Algorithm algorithm = Algorithm::kHs256;
  std::string kid;                       // "" when the key has none
  std::string secret;                    // HS256
  std::shared_ptr<EVP_PKEY> public_key;  // RS256, ES256

  // Whether `signature` (as it appears in a JWS, decoded) signs `signing_input`.
  bool Verifies(std::string_view signing_input, std::string_view signature) const;
};

// The keys one verifier accepts.
class KeySet final {
 public:
  explicit KeySet(std::vector<VerificationKey> keys) : keys_(std::move(keys)) {}

  // The key for a token: the one with the token's `kid` when it names one, otherwise the only key
  // of the token's algorithm; nullptr when there is no such key (or several and no kid).
  const VerificationKey* Find(std::string_view kid, std::string_view alg) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<VerificationKey> keys_;
};

// INVALID_ARGUMENT for a secret shorter than kMinHs256SecretBytes, or the deploy/k8s placeholder.
absl::StatusOr<VerificationKey> Hs256Key(std::string secret);

// A SubjectPublicKeyInfo PEM: RSA of at least 2048 bits (RS256) or EC P-256 (ES256).
absl::StatusOr<VerificationKey> PublicKeyFromPem(std::string_view pem);

// The usable signing keys of a JWKS document: RSA (RS256, at least 2048 bits) and EC P-256
// (ES256) keys; keys for encryption ("use": "enc"), of other types or with an "alg" that does not
// fit them are skipped. INVALID_ARGUMENT when the document is malformed or has no usable key.
absl::StatusOr<std::vector<VerificationKey>> KeysFromJwks(std::string_view json);

// The raw 32-byte HMAC-SHA256 of `data`, or "" if OpenSSL fails (which then never verifies).
std::string HmacSha256(std::string_view key, std::string_view data);

// Reads a PEM private key (RSA or EC P-256) for signing; tests and tools only.
absl::StatusOr<std::shared_ptr<EVP_PKEY>> PrivateKeyFromPem(std::string_view pem);

}  // namespace crm::auth
