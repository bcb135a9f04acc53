#include "common/auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/auth/base64url.h"
#include "common/testing/status_matchers.h"
#include "common/testing/wait.h"

namespace crm::auth {
namespace {

using ::crm::testing::IsOk;
using ::crm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr absl::StatusCode kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr char kSecret[] = "correct horse battery staple, 32+ bytes";

constexpr absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

// --- Token crafting, independent of jwt.cc so tests can build tokens it would never sign. ---

// absl's web-safe escape omits padding, matching JWS; it cross-checks our own encoder.
std::string B64(std::string_view data) {
  return absl::WebSafeBase64Escape(absl::string_view(data.data(), data.size()));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &size);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

// Signs arbitrary header and payload JSON text with HS256.
std::string CraftHs256(std::string_view header, std::string_view payload,
                       std::string_view secret = kSecret) {
  const std::string input = absl::StrCat(B64(header), ".", B64(payload));
  return absl::StrCat(input, ".", B64(HmacSha256(secret, input)));
}

Json GoodPayload() {
  return {{"sub", "user-1"},
          {"tenant", "acme"},
          {"roles", {"rep", "manager"}},
          {"exp", absl::ToUnixSeconds(kNow + absl::Hours(1))}};
}

std::string Hs256Header() { return R"({"alg":"HS256","typ":"JWT"})"; }

std::string CraftPayload(const Json& payload) { return CraftHs256(Hs256Header(), payload.dump()); }

Claims GoodClaims() {
  Claims claims;
  claims.subject = "user-1";
  claims.tenant = "acme";
  claims.roles = {"rep", "admin"};
  claims.expires = kNow + absl::Hours(1);
  return claims;
}

// --- RSA keys, generated once per run because 2048-bit generation is slow. ---

struct KeyPair {
  std::string public_pem;
  std::string private_pem;
};

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

KeyPair PemsOf(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(pub.get(), key), 1);
  EXPECT_EQ(PEM_write_bio_PrivateKey(priv.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  return {BioContents(pub.get()), BioContents(priv.get())};
}

KeyPair GenerateRsa(size_t bits) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), EVP_PKEY_free);
  EXPECT_NE(key, nullptr);
  return PemsOf(key.get());
}

// --- ES256 keys and JWKS documents, built with OpenSSL independently of keys.cc. ---

KeyPair GenerateP256() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  EXPECT_NE(key, nullptr);
  return PemsOf(key.get());
}

std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> PublicKeyOf(const KeyPair& pair) {
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(pair.public_pem.data(), static_cast<int>(pair.public_pem.size())), BIO_free);
  return {PEM_read_bio_PUBKEY(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free};
}

std::string BigNumParam(EVP_PKEY* key, const char* name, int width = 0) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1) << name;
  std::string out(width > 0 ? static_cast<size_t>(width) : static_cast<size_t>(BN_num_bytes(bn)),
                  '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

// The JWK (RFC 7517) of a public key, as an identity provider publishes it.
Json JwkOf(const KeyPair& pair, const std::string& kid) {
  auto key = PublicKeyOf(pair);
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    return {{"kty", "RSA"},
            {"kid", kid},
            {"use", "sig"},
            {"alg", "RS256"},
            {"n", B64(BigNumParam(key.get(), "n"))},
            {"e", B64(BigNumParam(key.get(), "e"))}};
  }
  return {{"kty", "EC"},
          {"kid", kid},
          {"crv", "P-256"},
          {"x", B64(BigNumParam(key.get(), "qx", 32))},
          {"y", B64(BigNumParam(key.get(), "qy", 32))}};
}

// A JWKS file in a fresh temporary folder; removed with the object.
class JwksFile {
 public:
  explicit JwksFile(const Json& document) {
    char folder[] = "/tmp/jwks-test.XXXXXX";
    dir_ = mkdtemp(folder);
    path_ = dir_ + "/jwks.json";
    Write(document);
  }
  ~JwksFile() {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  void Write(const Json& document) const {
    // Written aside and renamed, as a config-map update or a fetcher would, so no reader sees
    // half a file.
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp) << document.dump();
    std::rename(tmp.c_str(), path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(GenerateRsa(2048));
    other_rsa_ = new KeyPair(GenerateRsa(2048));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete other_rsa_;
  }

  JwtVerifier Hs256() {
    absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForHs256Secret(kSecret);
    EXPECT_OK(verifier);
    return std::move(verifier).value();
  }
  JwtVerifier Rs256() {
    absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForRs256PublicKeyPem(rsa_->public_pem);
    EXPECT_OK(verifier);
    return std::move(verifier).value();
  }

  // Every rejection must be UNAUTHENTICATED and must not leak the token or the secret.
  static void ExpectRejected(const JwtVerifier& verifier, const std::string& token) {
    const absl::StatusOr<Claims> claims = verifier.Verify(token, kNow);
    EXPECT_THAT(claims, StatusIs(kUnauthenticated));
    const std::string message(claims.status().message());
    if (!token.empty()) {
      EXPECT_THAT(message, Not(HasSubstr(token)));
    }
    EXPECT_THAT(message, Not(HasSubstr(kSecret)));
  }

  static KeyPair* rsa_;
  static KeyPair* other_rsa_;
};

KeyPair* JwtTest::rsa_ = nullptr;
KeyPair* JwtTest::other_rsa_ = nullptr;

// --- HS256 ---

TEST_F(JwtTest, Hs256RoundTrip) {
  const std::string token = SignHs256(GoodClaims(), kSecret);
  const absl::StatusOr<Claims> claims = Hs256().Verify(token, kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->subject, "user-1");
  EXPECT_EQ(claims->tenant, "acme");
  EXPECT_THAT(claims->roles, ElementsAre("rep", "admin"));
  EXPECT_EQ(claims->expires, kNow + absl::Hours(1));
  EXPECT_TRUE(claims->HasRole("admin"));
  EXPECT_TRUE(claims->HasRole(Role::kRep));
  EXPECT_FALSE(claims->HasRole(Role::kManager));
  EXPECT_FALSE(claims->HasRole("Admin"));
}

TEST_F(JwtTest, AcceptsTokenCraftedIndependently) {
  const absl::StatusOr<Claims> claims = Hs256().Verify(CraftPayload(GoodPayload()), kNow);
  ASSERT_OK(claims);
  EXPECT_THAT(claims->roles, ElementsAre("rep", "manager"));
}

TEST_F(JwtTest, EncodesLikeAbseilWebSafeBase64) {
  // Our encoder and absl's must agree for every input length mod 3, or tokens signed here would
  // not verify elsewhere. The segments must also exercise the '-' and '_' characters.
  Claims claims = GoodClaims();
  std::string all_segments;
  for (const std::string tenant : {"a", "ab", "abc", "~~~", "???"}) {
    claims.tenant = tenant;
    const std::string token = SignHs256(claims, kSecret);
    const size_t first = token.find('.');
    const size_t second = token.find('.', first + 1);
    for (const std::string& segment :
         {token.substr(0, first), token.substr(first + 1, second - first - 1),
          token.substr(second + 1)}) {
      std::string decoded;
      ASSERT_TRUE(absl::WebSafeBase64Unescape(segment, &decoded));
      EXPECT_EQ(B64(decoded), segment);
      all_segments += segment;
    }
    const absl::StatusOr<Claims> verified = Hs256().Verify(token, kNow);
    ASSERT_OK(verified);
    EXPECT_EQ(verified->tenant, tenant);
  }
  EXPECT_THAT(all_segments, HasSubstr("-"));
  EXPECT_THAT(all_segments, HasSubstr("_"));
}

TEST_F(JwtTest, RejectsExpired) {
  Claims claims = GoodClaims();
  claims.expires = kNow - absl::Seconds(1);
  ExpectRejected(Hs256(), SignHs256(claims, kSecret));
}

TEST_F(JwtTest, NoLeewayAtExpiry) {
  Claims claims = GoodClaims();
  claims.expires = kNow;
  ExpectRejected(Hs256(), SignHs256(claims, kSecret));
  claims.expires = kNow + absl::Seconds(1);
  EXPECT_OK(Hs256().Verify(SignHs256(claims, kSecret), kNow));
}

TEST_F(JwtTest, RejectsWrongSecret) {
  ExpectRejected(Hs256(), SignHs256(GoodClaims(), "another secret"));
}

TEST_F(JwtTest, RejectsEmptySecret) {
  EXPECT_THAT(JwtVerifier::ForHs256Secret(""), StatusIs(kInvalidArgument));
}

TEST_F(JwtTest, RejectsAlgNone) {
  const std::string payload = B64(GoodPayload().dump());
  for (const char* alg : {"none", "None", "NONE"}) {
    const Json header = {{"alg", alg}, {"typ", "JWT"}};
    // Unsigned token: empty signature segment.
    ExpectRejected(Hs256(), absl::StrCat(B64(header.dump()), ".", payload, "."));
    ExpectRejected(Rs256(), absl::StrCat(B64(header.dump()), ".", payload, "."));
  }
}

TEST_F(JwtTest, RejectsMissingOrNonStringAlg) {
  ExpectRejected(Hs256(), CraftHs256(R"({"typ":"JWT"})", GoodPayload().dump()));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":256})", GoodPayload().dump()));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":null})", GoodPayload().dump()));
}

TEST_F(JwtTest, RejectsOtherAlgEvenWithValidHmac) {
  // Correctly MACed with the secret, but the header claims another algorithm.
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS512"})", GoodPayload().dump()));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"hs256"})", GoodPayload().dump()));
}

TEST_F(JwtTest, ChecksTyp) {
  const std::string payload = GoodPayload().dump();
  EXPECT_OK(Hs256().Verify(CraftHs256(R"({"alg":"HS256"})", payload), kNow));
  EXPECT_OK(Hs256().Verify(CraftHs256(R"({"alg":"HS256","typ":"JWT"})", payload), kNow));
  EXPECT_OK(Hs256().Verify(CraftHs256(R"({"alg":"HS256","typ":"jwt"})", payload), kNow));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS256","typ":"at+jwt"})", payload));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS256","typ":"JWE"})", payload));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS256","typ":1})", payload));
}

TEST_F(JwtTest, RejectsCritHeader) {
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS256","crit":["exp"]})", GoodPayload().dump()));
}

TEST_F(JwtTest, RejectsTamperedPayload) {
  const std::string token = SignHs256(GoodClaims(), kSecret);
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  Json payload = GoodPayload();
  payload["tenant"] = "evil-corp";
  const std::string tampered =
      absl::StrCat(token.substr(0, first + 1), B64(payload.dump()), token.substr(second));
  ExpectRejected(Hs256(), tampered);
}

TEST_F(JwtTest, RejectsTamperedSignature) {
  std::string token = SignHs256(GoodClaims(), kSecret);
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  ExpectRejected(Hs256(), token);
}

TEST_F(JwtTest, RejectsTruncatedSignature) {
  const std::string token = SignHs256(GoodClaims(), kSecret);
  ExpectRejected(Hs256(), token.substr(0, token.size() - 4));
  ExpectRejected(Hs256(), token.substr(0, token.rfind('.') + 1));
}

TEST_F(JwtTest, RejectsMissingOrEmptySubject) {
  Json payload = GoodPayload();
  payload.erase("sub");
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["sub"] = "";
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["sub"] = 42;
  ExpectRejected(Hs256(), CraftPayload(payload));
  Claims claims = GoodClaims();
  claims.subject.clear();
  ExpectRejected(Hs256(), SignHs256(claims, kSecret));
}

TEST_F(JwtTest, RejectsMissingOrEmptyTenant) {
  Json payload = GoodPayload();
  payload.erase("tenant");
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["tenant"] = "";
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["tenant"] = Json::array({"acme"});
  ExpectRejected(Hs256(), CraftPayload(payload));
}

TEST_F(JwtTest, RejectsRolesNotArrayOfStrings) {
  Json payload = GoodPayload();
  payload["roles"] = "admin";
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["roles"] = Json::object({{"admin", true}});
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["roles"] = nullptr;
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["roles"] = Json::array({"rep", 1});
  ExpectRejected(Hs256(), CraftPayload(payload));
}

TEST_F(JwtTest, MissingRolesMeansNone) {
  Json payload = GoodPayload();
  payload.erase("roles");
  const absl::StatusOr<Claims> claims = Hs256().Verify(CraftPayload(payload), kNow);
  ASSERT_OK(claims);
  EXPECT_TRUE(claims->roles.empty());
}

TEST_F(JwtTest, KeepsUnknownRoles) {
  Json payload = GoodPayload();
  payload["roles"] = Json::array({"auditor"});
  const absl::StatusOr<Claims> claims = Hs256().Verify(CraftPayload(payload), kNow);
  ASSERT_OK(claims);
  EXPECT_TRUE(claims->HasRole("auditor"));
}

TEST_F(JwtTest, RejectsMissingOrNonNumericExp) {
  Json payload = GoodPayload();
  payload.erase("exp");
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["exp"] = "1900000000";
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["exp"] = true;
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["exp"] = nullptr;
  ExpectRejected(Hs256(), CraftPayload(payload));
}

TEST_F(JwtTest, AcceptsFractionalAndHugeExp) {
  Json payload = GoodPayload();
  payload["exp"] = absl::ToUnixSeconds(kNow) + 0.5;
  absl::StatusOr<Claims> claims = Hs256().Verify(CraftPayload(payload), kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->expires, kNow + absl::Milliseconds(500));

  payload["exp"] = absl::ToUnixSeconds(kNow) - 0.5;
  ExpectRejected(Hs256(), CraftPayload(payload));

  payload["exp"] = 18446744073709551615u;  // Larger than int64: treated as never expiring.
  claims = Hs256().Verify(CraftPayload(payload), kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->expires, absl::InfiniteFuture());

  // Out of double range: the JSON parser refuses it, so the token is rejected, not crashed on.
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), R"({"sub":"u","tenant":"t","exp":1e999})"));
}

TEST_F(JwtTest, ChecksNotBefore) {
  Json payload = GoodPayload();
  payload["nbf"] = absl::ToUnixSeconds(kNow) + 1;
  ExpectRejected(Hs256(), CraftPayload(payload));
  payload["nbf"] = absl::ToUnixSeconds(kNow);
  EXPECT_OK(Hs256().Verify(CraftPayload(payload), kNow));
  payload["nbf"] = "0";
  ExpectRejected(Hs256(), CraftPayload(payload));
}

TEST_F(JwtTest, RejectsMalformedTokens) {
  const JwtVerifier verifier = Hs256();
  const std::string good = SignHs256(GoodClaims(), kSecret);
  const size_t first = good.find('.');
  const size_t second = good.find('.', first + 1);
  ExpectRejected(verifier, "");
  ExpectRejected(verifier, "garbage");
  ExpectRejected(verifier, "..");
  ExpectRejected(verifier, "...");
  ExpectRejected(verifier, good.substr(0, second));            // Two parts.
  ExpectRejected(verifier, absl::StrCat(good, "."));           // Four parts.
  ExpectRejected(verifier, absl::StrCat(good, ".AAAA.AAAA"));  // Five parts, JWE-shaped.
  ExpectRejected(verifier, absl::StrCat(good, "="));           // Padding.
  ExpectRejected(verifier, absl::StrCat(good.substr(0, first), "=", good.substr(first)));
  ExpectRejected(verifier, absl::StrCat("+", good.substr(1)));  // Standard-alphabet chars.
  ExpectRejected(verifier, absl::StrCat(good.substr(0, first), "/", good.substr(first)));
  ExpectRejected(verifier, absl::StrCat(" ", good));
  ExpectRejected(verifier, absl::StrCat(good, "\n"));
  ExpectRejected(verifier, absl::StrCat(good, "A"));  // Length % 4 == 1.
  ExpectRejected(verifier, std::string("ey\0J.a.b", 8));
}

TEST_F(JwtTest, RejectsNonCanonicalBase64) {
  // A 32-byte MAC is 43 characters, whose last one carries 2 unused bits. Setting them leaves the
  // decoded bytes unchanged, so only a strict decoder notices.
  std::string token = SignHs256(GoodClaims(), kSecret);
  const char last = token.back();
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t value = alphabet.find(last);
  ASSERT_EQ(value & 3, 0u);
  token.back() = alphabet[value | 1];
  ExpectRejected(Hs256(), token);
}

TEST_F(JwtTest, RejectsNonObjectJson) {
  const std::string payload = GoodPayload().dump();
  ExpectRejected(Hs256(), CraftHs256("not json", payload));
  ExpectRejected(Hs256(), CraftHs256(R"(["alg","HS256"])", payload));
  ExpectRejected(Hs256(), CraftHs256(R"("HS256")", payload));
  ExpectRejected(Hs256(), CraftHs256(R"({"alg":"HS256"} trailing)", payload));
  ExpectRejected(Hs256(), CraftHs256("", payload));
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), "[]"));
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), "null"));
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), "{\"sub\":"));
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), "{\"sub\":\"\xff\"}"));  // Bad UTF-8.
  ExpectRejected(Hs256(), CraftHs256(Hs256Header(), std::string(10000, '[')));
}

TEST_F(JwtTest, SignReplacesInvalidUtf8) {
  Claims claims = GoodClaims();
  claims.subject = "bad\xff";
  const absl::StatusOr<Claims> verified = Hs256().Verify(SignHs256(claims, kSecret), kNow);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->subject, "bad\xef\xbf\xbd");
}

// --- RS256 ---

TEST_F(JwtTest, Rs256RoundTrip) {
  const absl::StatusOr<std::string> token = SignRs256(GoodClaims(), rsa_->private_pem);
  ASSERT_OK(token);
  const absl::StatusOr<Claims> claims = Rs256().Verify(*token, kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->subject, "user-1");
  EXPECT_EQ(claims->tenant, "acme");
  EXPECT_THAT(claims->roles, ElementsAre("rep", "admin"));
  EXPECT_EQ(claims->expires, kNow + absl::Hours(1));
}

TEST_F(JwtTest, Rs256VerifierSurvivesCopiesAndSourceDestruction) {
  const absl::StatusOr<std::string> token = SignRs256(GoodClaims(), rsa_->private_pem);
  ASSERT_OK(token);
  std::optional<JwtVerifier> original = Rs256();
  const JwtVerifier copy = *original;
  original.reset();
  EXPECT_OK(copy.Verify(*token, kNow));
}

TEST_F(JwtTest, Rs256RejectsDifferentKey) {
  const absl::StatusOr<std::string> token = SignRs256(GoodClaims(), other_rsa_->private_pem);
  ASSERT_OK(token);
  ExpectRejected(Rs256(), *token);
}

TEST_F(JwtTest, Rs256RejectsTamperedPayload) {
  const absl::StatusOr<std::string> token = SignRs256(GoodClaims(), rsa_->private_pem);
  ASSERT_OK(token);
  const size_t first = token->find('.');
  const size_t second = token->find('.', first + 1);
  Json payload = GoodPayload();
  payload["roles"] = Json::array({"admin"});
  ExpectRejected(Rs256(), absl::StrCat(token->substr(0, first + 1), B64(payload.dump()),
                                       token->substr(second)));
}

TEST_F(JwtTest, Rs256RejectsExpired) {
  Claims claims = GoodClaims();
  claims.expires = kNow - absl::Minutes(5);
  const absl::StatusOr<std::string> token = SignRs256(claims, rsa_->private_pem);
  ASSERT_OK(token);
  ExpectRejected(Rs256(), *token);
}

// --- ES256 ---

TEST_F(JwtTest, Es256RoundTripThroughAPublicKeyPem) {
  const KeyPair ec = GenerateP256();
  const absl::StatusOr<std::string> token = SignEs256(GoodClaims(), ec.private_pem);
  ASSERT_OK(token);
  // JWS carries R || S: 64 bytes, not DER.
  EXPECT_EQ(Base64UrlDecode(token->substr(token->rfind('.') + 1))->size(), 64u);
  const absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForPublicKeyPem(ec.public_pem);
  ASSERT_OK(verifier);
  const absl::StatusOr<Claims> claims = verifier->Verify(*token, kNow);
  ASSERT_OK(claims);
  EXPECT_EQ(claims->tenant, "acme");
  // Another P-256 key, a tampered signature, and an HS256 token MACed with the PEM all fail.
  ExpectRejected(*verifier, *SignEs256(GoodClaims(), GenerateP256().private_pem));
  std::string tampered = *token;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  ExpectRejected(*verifier, tampered);
  ExpectRejected(*verifier, SignHs256(GoodClaims(), ec.public_pem));
  // The RSA verifier does not take an EC key, and RS256 signing refuses one.
  EXPECT_THAT(SignRs256(GoodClaims(), ec.private_pem), StatusIs(kInvalidArgument));
  EXPECT_THAT(SignEs256(GoodClaims(), rsa_->private_pem), StatusIs(kInvalidArgument));
}

TEST_F(JwtTest, ForPublicKeyPemPicksTheAlgorithmFromTheKey) {
  const absl::StatusOr<JwtVerifier> rsa = JwtVerifier::ForPublicKeyPem(rsa_->public_pem);
  ASSERT_OK(rsa);
  EXPECT_OK(rsa->Verify(*SignRs256(GoodClaims(), rsa_->private_pem), kNow));
  ExpectRejected(*rsa, *SignEs256(GoodClaims(), GenerateP256().private_pem));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> p384(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"), EVP_PKEY_free);
  EXPECT_THAT(JwtVerifier::ForPublicKeyPem(PemsOf(p384.get()).public_pem),
              StatusIs(kInvalidArgument));
}

// --- JWKS ---

TEST_F(JwtTest, JwksChoosesTheKeyByKid) {
  const KeyPair ec = GenerateP256();
  JwksFile file(Json{{"keys", {JwkOf(*rsa_, "rsa-1"), JwkOf(ec, "ec-1")}}});
  const absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForJwksFile(file.path());
  ASSERT_OK(verifier);
  EXPECT_OK(verifier->Verify(*SignRs256(GoodClaims(), rsa_->private_pem, "rsa-1"), kNow));
  EXPECT_OK(verifier->Verify(*SignEs256(GoodClaims(), ec.private_pem, "ec-1"), kNow));
  // The kid must name a key of the token's algorithm, and that key must have signed it.
  ExpectRejected(*verifier, *SignRs256(GoodClaims(), rsa_->private_pem, "ec-1"));
  ExpectRejected(*verifier, *SignRs256(GoodClaims(), other_rsa_->private_pem, "rsa-1"));
  ExpectRejected(*verifier, *SignRs256(GoodClaims(), rsa_->private_pem, "unknown"));
  // Without kid, only a key that is the only one of its algorithm is used.
  EXPECT_OK(verifier->Verify(*SignEs256(GoodClaims(), ec.private_pem), kNow));
  JwksFile two_rsa(Json{{"keys", {JwkOf(*rsa_, "a"), JwkOf(*other_rsa_, "b")}}});
  const absl::StatusOr<JwtVerifier> ambiguous = JwtVerifier::ForJwksFile(two_rsa.path());
  ASSERT_OK(ambiguous);
  ExpectRejected(*ambiguous, *SignRs256(GoodClaims(), rsa_->private_pem));
  EXPECT_OK(ambiguous->Verify(*SignRs256(GoodClaims(), other_rsa_->private_pem, "b"), kNow));
  // An HS256 token is never checked against a JWKS (it holds public keys only).
  ExpectRejected(*verifier, SignHs256(GoodClaims(), kSecret, "rsa-1"));
}

TEST_F(JwtTest, JwksSkipsKeysItCannotUseAndRefusesADocumentWithNone) {
  Json encryption = JwkOf(*rsa_, "enc");
  encryption["use"] = "enc";
  Json wrong_alg = JwkOf(*other_rsa_, "wrong");
  wrong_alg["alg"] = "ES256";
  Json symmetric = {{"kty", "oct"}, {"kid", "oct"}, {"k", B64(kSecret)}};
  Json off_curve = JwkOf(GenerateP256(), "off");
  off_curve["y"] = B64(std::string(32, '\x01'));
  JwksFile file(Json{{"keys", {encryption, wrong_alg, symmetric, off_curve}}});
  EXPECT_THAT(JwtVerifier::ForJwksFile(file.path()), StatusIs(kInvalidArgument));
  JwksFile mixed(Json{{"keys", {encryption, symmetric, JwkOf(*rsa_, "good")}}});
  const absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForJwksFile(mixed.path());
  ASSERT_OK(verifier);
  EXPECT_OK(verifier->Verify(*SignRs256(GoodClaims(), rsa_->private_pem, "good"), kNow));
  ExpectRejected(*verifier, *SignRs256(GoodClaims(), rsa_->private_pem, "enc"));
  for (const char* bad : {"", "[]", "{}", R"({"keys": {}})", "not json"}) {
    JwksFile broken(Json::parse(R"({"keys": []})"));
    std::ofstream(broken.path()) << bad;
    EXPECT_THAT(JwtVerifier::ForJwksFile(broken.path()), StatusIs(kInvalidArgument)) << bad;
  }
  EXPECT_THAT(JwtVerifier::ForJwksFile("/nonexistent/jwks.json"), Not(IsOk()));
}

TEST_F(JwtTest, AJwksFileIsReadAgainWhenItChangesAndABrokenOneKeepsTheOldKeys) {
  const KeyPair old_key = GenerateP256(), new_key = GenerateP256();
  JwksFile file(Json{{"keys", {JwkOf(old_key, "2026-11")}}});
  const absl::StatusOr<JwtVerifier> verifier = JwtVerifier::ForJwksFile(file.path());
  ASSERT_OK(verifier);
  const std::string old_token = *SignEs256(GoodClaims(), old_key.private_pem, "2026-11");
  const std::string new_token = *SignEs256(GoodClaims(), new_key.private_pem, "2026-12");
  EXPECT_OK(verifier->Verify(old_token, kNow));
  ExpectRejected(*verifier, new_token);
  // The provider rotates: the file now lists the new key (and still the old one).
  file.Write(Json{{"keys", {JwkOf(old_key, "2026-11"), JwkOf(new_key, "2026-12")}}});
  EXPECT_TRUE(crm::testing::WaitUntil([&] { return verifier->Verify(new_token, kNow).ok(); },
                                      absl::Seconds(10)));
  EXPECT_OK(verifier->Verify(old_token, kNow));
  // A broken document does not take the keys away.
  std::ofstream(file.path()) << "{ half a document";
  absl::SleepFor(absl::Milliseconds(1500));  // past the one-second stat interval
  EXPECT_OK(verifier->Verify(new_token, kNow));
  // The old key retired: its tokens stop verifying.
  file.Write(Json{{"keys", {JwkOf(new_key, "2026-12")}}});
  EXPECT_TRUE(crm::testing::WaitUntil([&] { return !verifier->Verify(old_token, kNow).ok(); },
                                      absl::Seconds(10)));
  EXPECT_OK(verifier->Verify(new_token, kNow));
}

// --- Policy: issuer, audience, lifetime ---

TEST_F(JwtTest, APolicyChecksIssuerAudienceAndLifetime) {
  const JwtVerifier strict = Hs256().WithPolicy({.issuer = "https://id.example.com/",
                                                 .audience = "crm-api",
                                                 .max_lifetime = absl::Hours(24)});
  Claims claims = GoodClaims();
  claims.issuer = "https://id.example.com/";
  claims.audiences = {"other", "crm-api"};
  claims.issued_at = kNow - absl::Minutes(5);
  EXPECT_OK(strict.Verify(SignHs256(claims, kSecret), kNow));
  claims.audiences = {"crm-api"};
  EXPECT_OK(strict.Verify(SignHs256(claims, kSecret), kNow));  // "aud" as a single string

  Claims wrong_issuer = claims;
  wrong_issuer.issuer = "https://evil.example.com/";
  ExpectRejected(strict, SignHs256(wrong_issuer, kSecret));
  Claims no_issuer = claims;
  no_issuer.issuer.clear();
  ExpectRejected(strict, SignHs256(no_issuer, kSecret));
  Claims wrong_audience = claims;
  wrong_audience.audiences = {"another-api"};
  ExpectRejected(strict, SignHs256(wrong_audience, kSecret));
  Claims no_audience = claims;
  no_audience.audiences.clear();
  ExpectRejected(strict, SignHs256(no_audience, kSecret));
  // A token minted for a year is refused while young, with or without "iat".
  Claims year = claims;
  year.expires = kNow + absl::Hours(24 * 365);
  ExpectRejected(strict, SignHs256(year, kSecret));
  year.issued_at.reset();
  ExpectRejected(strict, SignHs256(year, kSecret));
  // exp - iat over the limit, though little of it is left.
  Claims old = claims;
  old.issued_at = kNow - absl::Hours(30);
  old.expires = kNow + absl::Minutes(10);
  ExpectRejected(strict, SignHs256(old, kSecret));
  // Exactly the limit passes.
  Claims day = claims;
  day.issued_at = kNow;
  day.expires = kNow + absl::Hours(24);
  EXPECT_OK(strict.Verify(SignHs256(day, kSecret), kNow));
  // Without a policy none of this is asked for.
  EXPECT_OK(Hs256().Verify(SignHs256(year, kSecret), kNow));
}

TEST_F(JwtTest, Hs256SecretsShorterThan32BytesOrThePlaceholderAreRefused) {
  EXPECT_THAT(JwtVerifier::ForHs256Secret(std::string(31, 'x')), StatusIs(kInvalidArgument));
  EXPECT_OK(JwtVerifier::ForHs256Secret(std::string(32, 'x')));
  EXPECT_THAT(JwtVerifier::ForHs256Secret("replace-me-with-32-random-bytes-please"),
              StatusIs(kInvalidArgument));
}

TEST(LooksLikeJwsTest, OnlyThreeBase64UrlParts) {
  EXPECT_TRUE(LooksLikeJws("a.b.c"));
  EXPECT_TRUE(LooksLikeJws("eyJ-_0.eyJ9.sig-_"));
  for (const char* bad : {"", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.", "a.b.c=", "a b.c.d",
                          "a.b.c\n", "a.b.\xc3\xa9", "a.b.c\x7f"}) {
    EXPECT_FALSE(LooksLikeJws(bad)) << bad;
  }
}

// --- Algorithm confusion ---

TEST_F(JwtTest, Hs256VerifierRejectsRs256Token) {
  const absl::StatusOr<std::string> token = SignRs256(GoodClaims(), rsa_->private_pem);
  ASSERT_OK(token);
  ExpectRejected(Hs256(), *token);
}

TEST_F(JwtTest, Rs256VerifierRejectsHs256Token) {
  ExpectRejected(Rs256(), SignHs256(GoodClaims(), kSecret));
  // The classic attack: MAC the token with the (public) verification key as the HMAC secret.
  ExpectRejected(Rs256(), SignHs256(GoodClaims(), rsa_->public_pem));
}

// --- Key loading ---

TEST_F(JwtTest, RejectsBadPublicKeyPem) {
  EXPECT_THAT(JwtVerifier::ForRs256PublicKeyPem(""), StatusIs(kInvalidArgument));
  EXPECT_THAT(JwtVerifier::ForRs256PublicKeyPem("-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                                "-----END PUBLIC KEY-----\n"),
              StatusIs(kInvalidArgument));
  // A private key is not a SubjectPublicKeyInfo.
  EXPECT_THAT(JwtVerifier::ForRs256PublicKeyPem(rsa_->private_pem), StatusIs(kInvalidArgument));
}

TEST_F(JwtTest, RejectsNonRsaAndShortKeys) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  ASSERT_NE(ec, nullptr);
  const KeyPair ec_pems = PemsOf(ec.get());
  EXPECT_THAT(JwtVerifier::ForRs256PublicKeyPem(ec_pems.public_pem), StatusIs(kInvalidArgument));
  EXPECT_THAT(SignRs256(GoodClaims(), ec_pems.private_pem), StatusIs(kInvalidArgument));

  const KeyPair short_rsa = GenerateRsa(1024);
  EXPECT_THAT(JwtVerifier::ForRs256PublicKeyPem(short_rsa.public_pem), StatusIs(kInvalidArgument));
  EXPECT_THAT(SignRs256(GoodClaims(), short_rsa.private_pem), StatusIs(kInvalidArgument));
}

TEST_F(JwtTest, SignRs256RejectsBadOrEncryptedPrivateKey) {
  EXPECT_THAT(SignRs256(GoodClaims(), ""), StatusIs(kInvalidArgument));
  EXPECT_THAT(SignRs256(GoodClaims(), rsa_->public_pem), StatusIs(kInvalidArgument));

  // Must fail rather than prompt for a passphrase on the terminal.
  std::unique_ptr<BIO, decltype(&BIO_free)> in(
      BIO_new_mem_buf(rsa_->private_pem.data(), static_cast<int>(rsa_->private_pem.size())),
      BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  ASSERT_NE(key, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  unsigned char passphrase[] = "passphrase";
  ASSERT_EQ(PEM_write_bio_PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), passphrase,
                                     sizeof(passphrase) - 1, nullptr, nullptr),
            1);
  const std::string encrypted = BioContents(out.get());
  ASSERT_THAT(encrypted, HasSubstr("ENCRYPTED"));
  EXPECT_THAT(SignRs256(GoodClaims(), encrypted), StatusIs(kInvalidArgument));
}

// --- BearerToken ---

TEST(BearerTokenTest, ExtractsToken) {
  absl::StatusOr<std::string_view> token = BearerToken("Bearer abc.def.ghi");
  ASSERT_OK(token);
  EXPECT_EQ(*token, "abc.def.ghi");
}

TEST(BearerTokenTest, SchemeIsCaseInsensitive) {
  for (const char* header : {"bearer abc", "BEARER abc", "bEaReR abc"}) {
    absl::StatusOr<std::string_view> token = BearerToken(header);
    ASSERT_OK(token) << header;
    EXPECT_EQ(*token, "abc");
  }
}

TEST(BearerTokenTest, ToleratesExtraSpaces) {
  absl::StatusOr<std::string_view> token = BearerToken("  Bearer   abc  ");
  ASSERT_OK(token);
  EXPECT_EQ(*token, "abc");
}

TEST(BearerTokenTest, RejectsMissing) {
  EXPECT_THAT(BearerToken(""), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("   "), StatusIs(kUnauthenticated));
}

TEST(BearerTokenTest, RejectsWrongScheme) {
  EXPECT_THAT(BearerToken("Basic dXNlcjpwYXNz"), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("Bearerabc"), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("abc.def.ghi"), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("Bearer\tabc"), StatusIs(kUnauthenticated));
}

TEST(BearerTokenTest, RejectsEmptyToken) {
  EXPECT_THAT(BearerToken("Bearer"), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("Bearer "), StatusIs(kUnauthenticated));
  EXPECT_THAT(BearerToken("Bearer    "), StatusIs(kUnauthenticated));
}

TEST(BearerTokenTest, RejectsTokenWithWhitespace) {
  EXPECT_THAT(BearerToken("Bearer abc def"), StatusIs(kUnauthenticated));
}

}  // namespace
}  // namespace crm::auth
