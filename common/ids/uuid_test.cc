#include "common/ids/uuid.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace crm::ids {
namespace {

// The 48-bit Unix millisecond timestamp at the front of a UUIDv7.
int64_t TimestampMillis(const std::string& uuid) {
  const std::string hex = absl::StrCat(uuid.substr(0, 8), uuid.substr(9, 4));
  uint64_t ms = 0;
  EXPECT_TRUE(absl::SimpleHexAtoi(hex, &ms)) << uuid;
  return static_cast<int64_t>(ms);
}

TEST(NewUuidV7Test, IsCanonical) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewUuidV7();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_TRUE(IsCanonicalUuid(id)) << id;
  }
}

TEST(NewUuidV7Test, HasVersionSeven) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewUuidV7();
    EXPECT_EQ(id[14], '7') << id;
  }
}

TEST(NewUuidV7Test, HasRfcVariant) {
  // Variant bits 10: the first hex digit of the fourth group is 8, 9, a or b.
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewUuidV7();
    EXPECT_THAT(std::string(1, id[19]), ::testing::AnyOf("8", "9", "a", "b")) << id;
  }
}

TEST(NewUuidV7Test, TimestampIsNow) {
  const int64_t before = absl::ToUnixMillis(absl::Now());
  const std::string id = NewUuidV7();
  const int64_t after = absl::ToUnixMillis(absl::Now());
  const int64_t ms = TimestampMillis(id);
  EXPECT_GE(ms, before) << id;
  EXPECT_LE(ms, after) << id;
}

TEST(NewUuidV7Test, TenThousandAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 10'000; ++i) ids.insert(NewUuidV7());
  EXPECT_EQ(ids.size(), 10'000u);
}

TEST(NewUuidV7Test, IdsOfOneProcessAreStrictlyIncreasingEvenWithinAMillisecond) {
  std::string previous = NewUuidV7();
  for (int i = 0; i < 5'000; ++i) {
    const std::string id = NewUuidV7();
    ASSERT_LT(previous, id);
    previous = id;
  }
}

TEST(NewUuidV7Test, RandomBitsVary) {
  // Same millisecond or not, the 74 random bits differ between two ids.
  const std::string a = NewUuidV7();
  const std::string b = NewUuidV7();
  EXPECT_NE(a.substr(15), b.substr(15));
}

TEST(NewUuidV7Test, SuccessiveMillisecondsSortInCreationOrder) {
  std::vector<std::string> first;
  std::vector<std::string> second;
  for (int i = 0; i < 200; ++i) first.push_back(NewUuidV7());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  for (int i = 0; i < 200; ++i) second.push_back(NewUuidV7());

  const std::string max_first = *std::max_element(first.begin(), first.end());
  const std::string min_second = *std::min_element(second.begin(), second.end());
  EXPECT_LT(max_first, min_second);
  EXPECT_LT(TimestampMillis(max_first), TimestampMillis(min_second));
  // Within each batch, timestamps never go backwards.
  for (const std::vector<std::string>* batch : {&first, &second}) {
    for (size_t i = 1; i < batch->size(); ++i) {
      EXPECT_LE(TimestampMillis((*batch)[i - 1]), TimestampMillis((*batch)[i]));
    }
  }
}

TEST(IsCanonicalUuidTest, AcceptsAnyVersionInLowerCase) {
  EXPECT_TRUE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890ab"));
  EXPECT_TRUE(IsCanonicalUuid("123e4567-e89b-12d3-a456-426614174000"));  // v1
  EXPECT_TRUE(IsCanonicalUuid("f47ac10b-58cc-4372-a567-0e02b2c3d479"));  // v4
  EXPECT_TRUE(IsCanonicalUuid("00000000-0000-0000-0000-000000000000"));  // nil
  EXPECT_TRUE(IsCanonicalUuid("ffffffff-ffff-ffff-ffff-ffffffffffff"));  // max
}

TEST(IsCanonicalUuidTest, RejectsUpperCase) {
  EXPECT_FALSE(IsCanonicalUuid("0190C3D2-5B7E-7C1A-9F3E-1234567890AB"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890aB"));
}

TEST(IsCanonicalUuidTest, RejectsWrongLength) {
  EXPECT_FALSE(IsCanonicalUuid(""));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890a"));    // 35
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890abc"));  // 37
  EXPECT_FALSE(IsCanonicalUuid("0190c3d25b7e7c1a9f3e1234567890ab"));       // no dashes
  EXPECT_FALSE(IsCanonicalUuid("{0190c3d2-5b7e-7c1a-9f3e-1234567890ab}"));
  EXPECT_FALSE(IsCanonicalUuid("urn:uuid:0190c3d2-5b7e-7c1a-9f3e-1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid(" 0190c3d2-5b7e-7c1a-9f3e-1234567890ab"));
}

TEST(IsCanonicalUuidTest, RejectsMisplacedDashes) {
  EXPECT_FALSE(IsCanonicalUuid("0190c3d25-b7e-7c1a-9f3e-1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e7-c1a-9f3e-1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a9-f3e-1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e1-234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-12345678-0ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2_5b7e_7c1a_9f3e_1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("------------------------------------"));
}

TEST(IsCanonicalUuidTest, RejectsNonHex) {
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890ag"));
  EXPECT_FALSE(IsCanonicalUuid("g190c3d2-5b7e-7c1a-9f3e-1234567890ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-12345678 0ab"));
  EXPECT_FALSE(IsCanonicalUuid("0190c3d2-5b7e-7c1a-9f3e-1234567890\xd5\xa1"));  // Armenian "ա"
  EXPECT_FALSE(IsCanonicalUuid(absl::string_view("0190c3d2-5b7e-7c1a-9f3e-1234567890\0b", 36)));
}

}  // namespace
}  // namespace crm::ids
