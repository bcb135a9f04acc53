#include "common/auth/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"

namespace crm::auth {
namespace {

using ::crm::testing::IsOk;
using ::crm::testing::StatusIs;
using ::testing::Not;

constexpr char kUserSecret[] = "user-secret-0123456789abcdef-0123456789";
constexpr char kServiceSecret[] = "service-secret-0123456789abcdef-012345";

AuthOptions Options() {
  AuthOptions options;
  options.hs256_secret = kUserSecret;
  options.service_secret = kServiceSecret;
  return options;
}

std::unique_ptr<Authenticator> Make(const AuthOptions& options = Options()) {
  absl::StatusOr<std::unique_ptr<Authenticator>> made = Authenticator::Create(options);
  EXPECT_OK(made);
  return made.ok() ? *std::move(made) : nullptr;
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

std::string UserToken(const std::vector<std::string>& roles,
                      absl::Duration lifetime = absl::Hours(1),
                      const std::string& secret = kUserSecret) {
  Claims claims;
  claims.subject = "alice";
  claims.tenant = "acme";
  claims.roles = roles;
  claims.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  claims.expires = *claims.issued_at + lifetime;
  return SignHs256(claims, secret);
}

TEST(AuthenticatorTest, RefusesConfigurationsThatWouldWeakenIt) {
  AuthOptions none = Options();
  none.hs256_secret.clear();
  EXPECT_THAT(Authenticator::Create(none), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions two = Options();
  two.jwks_file = "/some/jwks.json";
  EXPECT_THAT(Authenticator::Create(two), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions short_secret = Options();
  short_secret.hs256_secret = "too-short";
  EXPECT_THAT(Authenticator::Create(short_secret), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions placeholder = Options();
  placeholder.hs256_secret = "replace-me-with-32-random-bytes";  // what deploy/k8s ships
  EXPECT_THAT(Authenticator::Create(placeholder), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions same = Options();
  same.service_secret = same.hs256_secret;
  EXPECT_THAT(Authenticator::Create(same), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions short_service = Options();
  short_service.service_secret = "short";
  EXPECT_THAT(Authenticator::Create(short_service), StatusIs(absl::StatusCode::kInvalidArgument));
  AuthOptions no_service = Options();
  no_service.service_secret.clear();  // the gateway: users only
  EXPECT_OK(Authenticator::Create(no_service));
}

TEST(AuthenticatorTest, UsersAreUsersAndTheServiceIdentityIsOnlyItsOwnCredential) {
  auto auth = Make();
  const absl::StatusOr<Principal> rep = auth->AuthenticateBearer(Bearer(UserToken({"rep"})));
  ASSERT_OK(rep);
  EXPECT_EQ(rep->tenant, "acme");
  EXPECT_TRUE(rep->rep);
  EXPECT_FALSE(rep->service);
  EXPECT_THAT(auth->AuthenticateServiceBearer(Bearer(UserToken({"admin"}))),
              StatusIs(absl::StatusCode::kPermissionDenied));

  const std::string service = Bearer(MintServiceToken("reporting", kServiceSecret));
  const absl::StatusOr<Principal> as_service = auth->AuthenticateServiceBearer(service);
  ASSERT_OK(as_service);
  EXPECT_TRUE(as_service->service);
  EXPECT_EQ(as_service->user, "reporting");
  EXPECT_EQ(as_service->tenant, "");
  // The service identity has no tenant to act in: user APIs refuse it.
  EXPECT_THAT(auth->AuthenticateBearer(service), StatusIs(absl::StatusCode::kPermissionDenied));

  // A tenant's issuer saying "service" grants nothing, with or without user roles.
  for (const auto& roles :
       std::vector<std::vector<std::string>>{{"service"}, {"admin", "service"}}) {
    EXPECT_THAT(auth->AuthenticateServiceBearer(Bearer(UserToken(roles))),
                StatusIs(absl::StatusCode::kUnauthenticated));
    EXPECT_THAT(auth->AuthenticateBearer(Bearer(UserToken(roles))),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  // A service-shaped token signed with the users' key is not the service identity.
  EXPECT_THAT(auth->AuthenticateServiceBearer(Bearer(MintServiceToken("x", kUserSecret))),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // A process configured without a service secret (the gateway) accepts no service identity.
  AuthOptions users_only = Options();
  users_only.service_secret.clear();
  EXPECT_THAT(Make(users_only)->AuthenticateServiceBearer(service),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

// Verified tokens are remembered (a look-up instead of a signature check), never past their
// expiry, and what a token may do does not change because it was remembered.
TEST(AuthenticatorTest, ARememberedTokenStillExpiresAndKeepsItsKind) {
  auto auth = Make();
  const std::string user = Bearer(UserToken({"rep"}, absl::Seconds(2)));
  for (int call = 0; call < 3; ++call) {
    ASSERT_OK(auth->AuthenticateBearer(user));
    EXPECT_THAT(auth->AuthenticateServiceBearer(user),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  const std::string service = Bearer(MintServiceToken("reporting", kServiceSecret));
  ASSERT_OK(auth->AuthenticateServiceBearer(service));
  EXPECT_THAT(auth->AuthenticateBearer(service), StatusIs(absl::StatusCode::kPermissionDenied));
  // A forged token that differs from a remembered one by a byte is checked, and refused.
  std::string forged = user;
  char& inside_signature = forged[forged.size() - 10];  // not the last: it holds padding bits
  inside_signature = inside_signature == 'A' ? 'B' : 'A';
  EXPECT_THAT(auth->AuthenticateBearer(forged), StatusIs(absl::StatusCode::kUnauthenticated));
  // Expiry is in whole seconds: wait until it has surely passed.
  absl::SleepFor(absl::Seconds(3));
  EXPECT_THAT(auth->AuthenticateBearer(user), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(AuthenticatorTest, UserTokensLiveAtMostTheConfiguredLifetime) {
  auto auth = Make();
  EXPECT_OK(auth->AuthenticateBearer(Bearer(UserToken({"rep"}, absl::Hours(24)))));
  EXPECT_THAT(auth->AuthenticateBearer(Bearer(UserToken({"rep"}, absl::Hours(25)))),
              StatusIs(absl::StatusCode::kUnauthenticated));
  AuthOptions week = Options();
  week.max_user_token_lifetime = absl::Hours(24 * 7);
  EXPECT_OK(Make(week)->AuthenticateBearer(Bearer(UserToken({"rep"}, absl::Hours(48)))));
}

TEST(AuthenticatorTest, IssuerAndAudienceWhenConfigured) {
  AuthOptions options = Options();
  options.issuer = "https://id.example.com/realms/crm";
  options.audience = "crm";
  auto auth = Make(options);
  Claims claims;
  claims.subject = "alice";
  claims.tenant = "acme";
  claims.roles = {"rep"};
  claims.expires = absl::Now() + absl::Hours(1);
  EXPECT_THAT(auth->AuthenticateBearer(Bearer(SignHs256(claims, kUserSecret))),
              StatusIs(absl::StatusCode::kUnauthenticated));
  claims.issuer = options.issuer;
  claims.audiences = {"crm"};
  EXPECT_OK(auth->AuthenticateBearer(Bearer(SignHs256(claims, kUserSecret))));
  // Service tokens keep their own issuer and audience.
  EXPECT_OK(auth->AuthenticateServiceBearer(Bearer(MintServiceToken("tasks", kServiceSecret))));
}

TEST(AuthenticatorTest, ErrorsNeverCarryTheToken) {
  auto auth = Make();
  const std::string forged =
      UserToken({"rep"}, absl::Hours(1), "another-secret-0123456789abcdef-0");
  const absl::StatusOr<Principal> refused = auth->AuthenticateBearer(Bearer(forged));
  ASSERT_THAT(refused, Not(IsOk()));
  EXPECT_EQ(std::string(refused.status().message()).find(forged), std::string::npos);
}

}  // namespace
}  // namespace crm::auth
