#include "common/auth/jwt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

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
#include "common/testing/status_matchers.h"

namespace crm::auth {
namespace {

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
