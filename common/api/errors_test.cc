#include "common/api/errors.h"

#include <gmock/gmock.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace crm::api {
namespace {

using ::crm::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kResourceInfoUrl[] = "type.googleapis.com/google.rpc.ResourceInfo";

// Every canonical code, OK included.
std::vector<absl::StatusCode> AllCodes() {
  std::vector<absl::StatusCode> codes;
  for (int i = 0; i <= 16; ++i) codes.push_back(static_cast<absl::StatusCode>(i));
  return codes;
}

// The google.rpc.Status carried in a grpc::Status's details; fails the test if there is none.
google::rpc::Status RpcStatusOf(const grpc::Status& status) {
  google::rpc::Status rpc_status;
  EXPECT_FALSE(status.error_details().empty());
  EXPECT_TRUE(rpc_status.ParseFromString(status.error_details()));
  return rpc_status;
}

TEST(InvalidFieldTest, IsInvalidArgumentNamingTheField) {
  const absl::Status status = InvalidField("contact.emails[1]", "must contain exactly one '@'");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(status.message()), HasSubstr("contact.emails[1]"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("must contain exactly one '@'"));
}

TEST(InvalidFieldTest, CarriesBadRequestFieldViolation) {
  const absl::Status status = InvalidField("contact.emails[1]", "must contain exactly one '@'");
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(status, &bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "contact.emails[1]");
  EXPECT_EQ(bad_request.field_violations(0).description(), "must contain exactly one '@'");
}

TEST(InvalidFieldTest, HasNoResourceInfo) {
  const absl::Status status = InvalidField("page_size", "must not be negative");
  google::rpc::ResourceInfo info;
  EXPECT_FALSE(GetDetail(status, &info));
}

TEST(AlreadyExistsResourceTest, CarriesResourceInfo) {
  const absl::Status status = AlreadyExistsResource("crm.contacts.v1.Contact",
                                                    "contacts/0190c3d2-0000-7000-8000-000000000000",
                                                    "email already used by another contact");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("contacts/0190c3d2-0000-7000-8000-000000000000"));
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(GetDetail(status, &info));
  EXPECT_EQ(info.resource_type(), "crm.contacts.v1.Contact");
  EXPECT_EQ(info.resource_name(), "contacts/0190c3d2-0000-7000-8000-000000000000");
  EXPECT_EQ(info.description(), "email already used by another contact");
  google::rpc::BadRequest bad_request;
  EXPECT_FALSE(GetDetail(status, &bad_request));
}

TEST(AttachDetailTest, AddsPayloadUnderTypeUrl) {
  absl::Status status = absl::FailedPreconditionError("not yet");
  google::rpc::PreconditionFailure failure;
  failure.add_violations()->set_type("TOS");
  AttachDetail(status, failure);
  EXPECT_TRUE(status.GetPayload("type.googleapis.com/google.rpc.PreconditionFailure").has_value());
  google::rpc::PreconditionFailure read;
  ASSERT_TRUE(GetDetail(status, &read));
  ASSERT_EQ(read.violations_size(), 1);
  EXPECT_EQ(read.violations(0).type(), "TOS");
}

TEST(GetDetailTest, FalseWhenAbsent) {
  google::rpc::BadRequest bad_request;
  EXPECT_FALSE(GetDetail(absl::InvalidArgumentError("plain"), &bad_request));
  EXPECT_FALSE(GetDetail(absl::OkStatus(), &bad_request));
}

TEST(ToGrpcStatusTest, OkIsOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK);
  EXPECT_TRUE(status.error_message().empty());
  EXPECT_TRUE(status.error_details().empty());
}

TEST(ToGrpcStatusTest, KeepsCodeAndMessageWithoutDetails) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("contact not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "contact not found");
  EXPECT_TRUE(status.error_details().empty());
}

TEST(ToGrpcStatusTest, CarriesBadRequestInDetails) {
  const absl::Status status = InvalidField("contact.phones[1]", "not a phone number");
  const grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(grpc_status.error_message(), std::string(status.message()));

  const google::rpc::Status rpc_status = RpcStatusOf(grpc_status);
  EXPECT_EQ(rpc_status.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(rpc_status.message(), std::string(status.message()));
  ASSERT_EQ(rpc_status.details_size(), 1);
  const google::protobuf::Any& any = rpc_status.details(0);
  EXPECT_EQ(any.type_url(), kBadRequestUrl);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(any.UnpackTo(&bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "contact.phones[1]");
  EXPECT_EQ(bad_request.field_violations(0).description(), "not a phone number");
}

TEST(ToGrpcStatusTest, CarriesResourceInfoInDetails) {
  const absl::Status status =
      AlreadyExistsResource("crm.contacts.v1.Company", "companies/abc", "domain in use");
  const grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(grpc_status.error_message(), std::string(status.message()));

  const google::rpc::Status rpc_status = RpcStatusOf(grpc_status);
  EXPECT_EQ(rpc_status.code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  ASSERT_EQ(rpc_status.details_size(), 1);
  EXPECT_EQ(rpc_status.details(0).type_url(), kResourceInfoUrl);
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&info));
  EXPECT_EQ(info.resource_type(), "crm.contacts.v1.Company");
  EXPECT_EQ(info.resource_name(), "companies/abc");
  EXPECT_EQ(info.description(), "domain in use");
}

TEST(ToGrpcStatusTest, KeepsSeveralDetails) {
  absl::Status status = InvalidField("contact.given_name", "too long");
  google::rpc::ResourceInfo info;
  info.set_resource_name("contacts/x");
  AttachDetail(status, info);
  const google::rpc::Status rpc_status = RpcStatusOf(ToGrpcStatus(status));
  ASSERT_EQ(rpc_status.details_size(), 2);
  std::vector<std::string> urls;
  for (const google::protobuf::Any& any : rpc_status.details()) urls.push_back(any.type_url());
  EXPECT_THAT(urls, ::testing::UnorderedElementsAre(kBadRequestUrl, kResourceInfoUrl));
}

TEST(ToGrpcStatusTest, DropsNonGoogleApisPayloads) {
  // Internal payloads (e.g. the database layer's SQLSTATE) must not reach clients.
  absl::Status status = absl::InternalError("database: error");
  status.SetPayload("crm.db/sqlstate", absl::Cord("XX000"));
  const grpc::Status grpc_status = ToGrpcStatus(status);
  EXPECT_EQ(grpc_status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(grpc_status.error_message(), "database: error");
  EXPECT_TRUE(grpc_status.error_details().empty());
}

TEST(FromGrpcStatusTest, OkIsOk) { EXPECT_OK(FromGrpcStatus(grpc::Status::OK)); }

TEST(FromGrpcStatusTest, WithoutDetails) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again"));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(status.message(), "try again");
  google::rpc::BadRequest bad_request;
  EXPECT_FALSE(GetDetail(status, &bad_request));
}

TEST(FromGrpcStatusTest, IgnoresUnparsableDetails) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad", std::string("\xff\xff\xff", 3)));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "bad");
}

TEST(FromGrpcStatusTest, RoundTripsBadRequest) {
  const absl::Status original = InvalidField("contact.emails[0]", "must not be empty");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_THAT(back, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(back.message(), original.message());
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(GetDetail(back, &bad_request));
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "contact.emails[0]");
  EXPECT_EQ(bad_request.field_violations(0).description(), "must not be empty");
  EXPECT_EQ(back, original);
}

TEST(FromGrpcStatusTest, RoundTripsResourceInfo) {
  const absl::Status original =
      AlreadyExistsResource("crm.contacts.v1.Contact", "contacts/abc", "phone in use");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_THAT(back, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(back.message(), original.message());
  google::rpc::ResourceInfo info;
  ASSERT_TRUE(GetDetail(back, &info));
  EXPECT_EQ(info.resource_type(), "crm.contacts.v1.Contact");
  EXPECT_EQ(info.resource_name(), "contacts/abc");
  EXPECT_EQ(info.description(), "phone in use");
  EXPECT_EQ(back, original);
}

TEST(StatusCodeMappingTest, EveryAbslCodeMapsToSameNumericGrpcCode) {
  for (absl::StatusCode code : AllCodes()) {
    SCOPED_TRACE(absl::StatusCodeToString(code));
    const absl::Status status =
        code == absl::StatusCode::kOk ? absl::OkStatus() : absl::Status(code, "message");
    const grpc::Status grpc_status = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(grpc_status.error_code()), static_cast<int>(code));
    EXPECT_EQ(FromGrpcStatus(grpc_status).code(), code);
  }
}

TEST(StatusCodeMappingTest, NamedCodesAgree) {
  // Guards the static_cast in errors.cc against a renumbering on either side.
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kCancelled),
            static_cast<int>(grpc::StatusCode::CANCELLED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kUnknown),
            static_cast<int>(grpc::StatusCode::UNKNOWN));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kInvalidArgument),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kDeadlineExceeded),
            static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kNotFound),
            static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kAlreadyExists),
            static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kPermissionDenied),
            static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kResourceExhausted),
            static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kFailedPrecondition),
            static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kAborted),
            static_cast<int>(grpc::StatusCode::ABORTED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kOutOfRange),
            static_cast<int>(grpc::StatusCode::OUT_OF_RANGE));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kUnimplemented),
            static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kInternal),
            static_cast<int>(grpc::StatusCode::INTERNAL));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kUnavailable),
            static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kDataLoss),
            static_cast<int>(grpc::StatusCode::DATA_LOSS));
  EXPECT_EQ(static_cast<int>(absl::StatusCode::kUnauthenticated),
            static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
}

}  // namespace
}  // namespace crm::api
