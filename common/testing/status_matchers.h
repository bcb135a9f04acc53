// GoogleTest matchers for absl::Status / absl::StatusOr (not in Debian's Abseil).
#pragma once

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"

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

// INVALID_ARGUMENT whose BadRequest detail names exactly `field`.
MATCHER_P(InvalidField, field, absl::StrCat("is INVALID_ARGUMENT naming field ", field)) {
  const absl::Status& status = ::crm::testing::GetStatus(arg);
  *result_listener << "status is " << status.ToString();
  if (status.code() != absl::StatusCode::kInvalidArgument) return false;
  google::rpc::BadRequest bad_request;
  if (!::crm::api::GetDetail(status, &bad_request)) {
    *result_listener << " without a BadRequest detail";
    return false;
  }
  if (bad_request.field_violations_size() != 1) return false;
  *result_listener << " naming " << bad_request.field_violations(0).field();
  return bad_request.field_violations(0).field() == std::string(field);
}

}  // namespace crm::testing

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::crm::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::crm::testing::IsOk())
