#include "common/api/page_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/api/errors.h"
#include "common/testing/status_matchers.h"
#include "google/rpc/error_details.pb.h"

namespace crm::api {
namespace {

using ::crm::testing::StatusIs;
using ::testing::Not;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr char kFingerprint[] = "filter=owner:me;order=id";

// Builds a token the way page_token.cc does, from arbitrary raw bytes.
std::string RawToken(absl::string_view raw) {
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  return out;
}

// The field named by an INVALID_ARGUMENT's BadRequest detail ("" when absent).
std::string BadField(const absl::Status& status) {
  google::rpc::BadRequest bad_request;
  if (!GetDetail(status, &bad_request) || bad_request.field_violations_size() != 1) return "";
  return bad_request.field_violations(0).field();
}

TEST(PageTokenTest, RoundTrip) {
  const PageCursor cursor{"0190c3d2-1111-7000-8000-000000000001", kFingerprint};
  const std::string token = EncodePageToken(cursor);
  absl::StatusOr<PageCursor> decoded = DecodePageToken(token, kFingerprint);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->last_key, cursor.last_key);
  EXPECT_EQ(decoded->fingerprint, cursor.fingerprint);
}

TEST(PageTokenTest, RoundTripKeepsSeparatorsAndBinaryInKey) {
  // The key is last, so newlines in it survive the split.
  const PageCursor cursor{std::string("a\nb\n\0c\xff", 7), "fp"};
  absl::StatusOr<PageCursor> decoded = DecodePageToken(EncodePageToken(cursor), "fp");
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->last_key, cursor.last_key);
}

TEST(PageTokenTest, RoundTripEmptyKeyAndFingerprint) {
  absl::StatusOr<PageCursor> decoded = DecodePageToken(EncodePageToken(PageCursor{"", ""}), "");
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->last_key, "");
  EXPECT_EQ(decoded->fingerprint, "");
}

TEST(PageTokenTest, TokenIsOpaqueUrlSafeText) {
  const std::string token = EncodePageToken(PageCursor{"key/with+chars?", "fp"});
  EXPECT_FALSE(token.empty());
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << token;
}

TEST(PageTokenTest, FingerprintMismatchIsInvalidArgument) {
  const std::string token = EncodePageToken(PageCursor{"k", kFingerprint});
  absl::StatusOr<PageCursor> decoded = DecodePageToken(token, "filter=owner:someone;order=id");
  EXPECT_THAT(decoded, StatusIs(kInvalidArgument));
  EXPECT_EQ(BadField(decoded.status()), "page_token");
  EXPECT_THAT(DecodePageToken(token, ""), StatusIs(kInvalidArgument));
}

TEST(PageTokenTest, GarbageIsInvalidArgument) {
  for (absl::string_view garbage : {"!!!", "not a token", "%%%%", "abc$def", "=====", "a"}) {
    SCOPED_TRACE(garbage);
    absl::StatusOr<PageCursor> decoded = DecodePageToken(garbage, kFingerprint);
    EXPECT_THAT(decoded, StatusIs(kInvalidArgument));
    EXPECT_EQ(BadField(decoded.status()), "page_token");
  }
}

TEST(PageTokenTest, EmptyAfterDecodeIsInvalidArgument) {
  EXPECT_THAT(DecodePageToken("", kFingerprint), StatusIs(kInvalidArgument));
  EXPECT_THAT(DecodePageToken(RawToken(""), kFingerprint), StatusIs(kInvalidArgument));
}

TEST(PageTokenTest, MissingPartsAreInvalidArgument) {
  EXPECT_THAT(DecodePageToken(RawToken("p1"), ""), StatusIs(kInvalidArgument));
  EXPECT_THAT(DecodePageToken(RawToken(absl::StrCat("p1\n", kFingerprint)), kFingerprint),
              StatusIs(kInvalidArgument));
  // Valid base64 of text without any separator.
  EXPECT_THAT(DecodePageToken(RawToken("hello world"), kFingerprint), StatusIs(kInvalidArgument));
}

TEST(PageTokenTest, WrongVersionIsInvalidArgument) {
  for (absl::string_view version : {"p0", "p2", "P1", "", "p1 "}) {
    SCOPED_TRACE(version);
    const std::string token = RawToken(absl::StrCat(version, "\n", kFingerprint, "\nkey"));
    absl::StatusOr<PageCursor> decoded = DecodePageToken(token, kFingerprint);
    EXPECT_THAT(decoded, StatusIs(kInvalidArgument));
    EXPECT_EQ(BadField(decoded.status()), "page_token");
  }
  // The same layout with the right version is accepted, so the rejection above is the version.
  EXPECT_OK(DecodePageToken(RawToken(absl::StrCat("p1\n", kFingerprint, "\nkey")), kFingerprint));
}

TEST(PageTokenTest, OverLongTokenIsInvalidArgument) {
  // A well-formed token whose key makes it longer than the 4096-character limit.
  const std::string token = EncodePageToken(PageCursor{std::string(4000, 'k'), kFingerprint});
  ASSERT_GT(token.size(), 4096u);
  absl::StatusOr<PageCursor> decoded = DecodePageToken(token, kFingerprint);
  EXPECT_THAT(decoded, StatusIs(kInvalidArgument));
  EXPECT_EQ(BadField(decoded.status()), "page_token");
}

TEST(PageTokenTest, LongTokenWithinLimitIsAccepted) {
  const std::string token = EncodePageToken(PageCursor{std::string(3000, 'k'), kFingerprint});
  ASSERT_LE(token.size(), 4096u);
  EXPECT_OK(DecodePageToken(token, kFingerprint));
}

TEST(PageSizeTest, ZeroMeansDefault) {
  absl::StatusOr<int> size = PageSize(0);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 50);
  size = PageSize(0, 20, 100);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 20);
}

TEST(PageSizeTest, InRangeIsItself) {
  for (int requested : {1, 49, 50, 51, 999, 1000}) {
    SCOPED_TRACE(requested);
    absl::StatusOr<int> size = PageSize(requested);
    ASSERT_OK(size);
    EXPECT_EQ(*size, requested);
  }
  absl::StatusOr<int> size = PageSize(100, 20, 100);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 100);
}

TEST(PageSizeTest, NegativeIsInvalidArgument) {
  for (int requested : {-1, -50, std::numeric_limits<int>::min()}) {
    SCOPED_TRACE(requested);
    absl::StatusOr<int> size = PageSize(requested);
    EXPECT_THAT(size, StatusIs(kInvalidArgument));
    EXPECT_EQ(BadField(size.status()), "page_size");
  }
}

TEST(PageSizeTest, AboveMaxIsInvalidArgument) {
  for (int requested : {1001, 5000, std::numeric_limits<int>::max()}) {
    SCOPED_TRACE(requested);
    absl::StatusOr<int> size = PageSize(requested);
    EXPECT_THAT(size, StatusIs(kInvalidArgument));
    EXPECT_EQ(BadField(size.status()), "page_size");
  }
  EXPECT_THAT(PageSize(101, 20, 100), StatusIs(kInvalidArgument));
  EXPECT_THAT(PageSize(100, 20, 100), Not(StatusIs(kInvalidArgument)));
}

}  // namespace
}  // namespace crm::api
