#include "services/tasks/webhook_signature.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace crm::tasks {
namespace {

TEST(WebhookSignatureTest, HmacMatchesRfc4231TestCase2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignatureTest, SignsTimestampDotBody) {
  const std::string body = R"({"type":"notification.created"})";
  EXPECT_EQ(WebhookSignature("whsec_k", 1700000000, body),
            "t=1700000000,v1=" + HmacSha256Hex("whsec_k", "1700000000." + body));
  // A different time or body gives a different signature (replays and edits are detectable).
  EXPECT_NE(WebhookSignature("whsec_k", 1700000001, body),
            WebhookSignature("whsec_k", 1700000000, body));
  EXPECT_NE(WebhookSignature("whsec_k", 1700000000, body + " "),
            WebhookSignature("whsec_k", 1700000000, body));
}

TEST(WebhookSignatureTest, SecretsAreRandomAndPrefixed) {
  const std::string a = NewWebhookSecret();
  const std::string b = NewWebhookSecret();
  EXPECT_TRUE(absl::StartsWith(a, "whsec_"));
  EXPECT_EQ(a.size(), 6u + 64u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace crm::tasks
