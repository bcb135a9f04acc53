#include "services/gateway/path_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crm::gateway {
namespace {

using Bindings = std::vector<std::pair<std::string, std::string>>;

PathTemplate T(const std::string& text) {
  auto t = PathTemplate::Parse(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(PathTemplateTest, LiteralsAndSingleVariables) {
  EXPECT_EQ(T("/v1/contacts").Match("/v1/contacts"), Bindings{});
  EXPECT_EQ(T("/v1/contacts").Match("/v1/contacts/x"), std::nullopt);
  EXPECT_EQ(T("/v1/{name}").Match("/v1/abc"), (Bindings{{"name", "abc"}}));
}

TEST(PathTemplateTest, MultiSegmentVariablesKeepTheirSlashes) {
  EXPECT_EQ(T("/v1/{name=contacts/*}").Match("/v1/contacts/0190-ab"),
            (Bindings{{"name", "contacts/0190-ab"}}));
  EXPECT_EQ(T("/v1/{name=contacts/*}").Match("/v1/deals/1"), std::nullopt);
  EXPECT_EQ(T("/v1/{contact.name=contacts/*}").Match("/v1/contacts/7"),
            (Bindings{{"contact.name", "contacts/7"}}));
  EXPECT_EQ(T("/v1/{parent=webhooks/*}/deliveries").Match("/v1/webhooks/9/deliveries"),
            (Bindings{{"parent", "webhooks/9"}}));
  EXPECT_EQ(T("/v1/{path=files/**}").Match("/v1/files/a/b/c"), (Bindings{{"path", "files/a/b/c"}}));
}

TEST(PathTemplateTest, VerbsAreMatchedExactly) {
  const PathTemplate merge = T("/v1/{winner=contacts/*}:merge");
  EXPECT_EQ(merge.Match("/v1/contacts/1:merge"), (Bindings{{"winner", "contacts/1"}}));
  EXPECT_EQ(merge.Match("/v1/contacts/1"), std::nullopt);
  EXPECT_EQ(merge.Match("/v1/contacts/1:split"), std::nullopt);
  // A template without a verb does not swallow one.
  EXPECT_EQ(T("/v1/{name=contacts/*}").Match("/v1/contacts:search"), std::nullopt);
  EXPECT_EQ(T("/v1/contacts:search").Match("/v1/contacts:search"), Bindings{});
}

TEST(PathTemplateTest, ValuesArePercentDecoded) {
  EXPECT_EQ(T("/v1/{name}").Match("/v1/a%20b"), (Bindings{{"name", "a b"}}));
  EXPECT_EQ(T("/v1/{name}").Match("/v1/a%2"), std::nullopt);  // malformed escape
  EXPECT_EQ(T("/v1/{name=files/*}").Match("/v1/files/a%2Fb"), (Bindings{{"name", "files/a%2Fb"}}));
}

TEST(PathTemplateTest, BadTemplatesAreRefused) {
  EXPECT_FALSE(PathTemplate::Parse("v1/x").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1//x").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/{name").ok());
}

TEST(PathTemplateTest, SpecificityPrefersLiterals) {
  EXPECT_GT(T("/v1/contacts:search").Specificity(), T("/v1/{name=contacts/*}").Specificity());
}

TEST(PathTemplateTest, DoubleStarOnlyLast) {
  // Elsewhere it would make matching backtrack over every split of the path: a template of a few
  // "**" against a long path would time out the path_template fuzz target.
  EXPECT_FALSE(PathTemplate::Parse("/v1/**/x").ok());
  EXPECT_FALSE(PathTemplate::Parse("/v1/{a=**}/{b=**}").ok());
  EXPECT_TRUE(PathTemplate::Parse("/v1/{a=files/**}:download").ok());
}

}  // namespace
}  // namespace crm::gateway
