// GoogleTest matchers for absl::Status / absl::StatusOr (not in Debian's Abseil).
#pragma once

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace crm::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// EXPECT_THAT(result, StatusIs(absl::StatusCode::kNotFound));
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = ::crm::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.code() == code;
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = ::crm::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  return status.ok();
}

}  // namespace crm::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::crm::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::crm::testing::IsOk())
