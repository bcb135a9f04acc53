#include "services/tasks/webhook_signature.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "absl/strings/match.h"
#include "services/tasks/webhook_dispatcher.h"

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

bool Internal(const char* ip) {
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return IsInternalAddress(reinterpret_cast<sockaddr*>(&v4));
  }
  EXPECT_EQ(inet_pton(AF_INET6, ip, &v6.sin6_addr), 1) << ip;
  v6.sin6_family = AF_INET6;
  return IsInternalAddress(reinterpret_cast<sockaddr*>(&v6));
}

TEST(WebhookAddressTest, InternalNetworksAreRefusedPublicOnesAllowed) {
  for (const char* ip : {"127.0.0.1",
                         "10.1.2.3",
                         "172.16.0.1",
                         "172.31.255.255",
                         "192.168.1.1",
                         "169.254.169.254",
                         "0.0.0.0",
                         "100.64.0.1",
                         "192.0.0.8",
                         "198.18.0.1",
                         "198.19.255.255",
                         "::1",
                         "fe80::1",
                         "fd00::1",
                         "::ffff:127.0.0.1",
                         "::",
                         "64:ff9b::a9fe:a9fe",
                         "64:ff9b::7f00:1",
                         "64:ff9b:1::1",
                         "::127.0.0.1",
                         "::10.0.0.1",
                         "fec0::1",
                         "2002:a00:1::",
                         "2001::1",
                         "100::1",
                         "ff02::1"}) {
    EXPECT_TRUE(Internal(ip)) << ip;
  }
  for (const char* ip :
       {"8.8.8.8", "172.32.0.1", "93.184.216.34", "198.20.0.1", "192.0.1.1", "2606:4700::1111",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"}) {
    EXPECT_FALSE(Internal(ip)) << ip;
  }
}

}  // namespace
}  // namespace crm::tasks
