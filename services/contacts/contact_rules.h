// The contacts service's business rules as pure functions: validation and normalisation of
// incoming records, update-mask application, ownership checks. No I/O; unit-tested directly.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/api/request_fields.h"
#include "common/auth/authenticator.h"
#include "crm/contacts/v1/company.pb.h"
#include "crm/contacts/v1/contact.pb.h"
#include "crm/contacts/v1/tenant_settings.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace crm::contacts {

inline constexpr absl::string_view kContactPrefix = "contacts/";
inline constexpr absl::string_view kCompanyPrefix = "companies/";
inline constexpr absl::string_view kContactType = "crm.contacts.v1.Contact";
inline constexpr absl::string_view kCompanyType = "crm.contacts.v1.Company";

// Limits on everything a client controls (also listed in docs/api.md).
inline constexpr size_t kMaxNameChars = 200;
inline constexpr int kMaxEmails = 10;
inline constexpr int kMaxPhones = 10;
inline constexpr int kMaxTags = 50;
inline constexpr size_t kMaxTagChars = 64;
inline constexpr int kMaxAttributes = 100;
inline constexpr size_t kMaxAttributeKeyChars = 64;
inline constexpr size_t kMaxAttributeValueChars = 1024;
using api::kMaxRequestIdChars;

// "contacts/{uuid}" -> uuid; INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::string> ParseResourceId(absl::string_view name, absl::string_view prefix,
                                            absl::string_view field);

// Validates the writable fields of a contact and puts them into canonical form: names cleaned,
// emails trimmed (keys case-folded), phones in E.164 (parsed in `phone_region`), tags and keys
// deduplicated. `field` is the request field holding the contact ("contact"), used in error field
// paths.
absl::Status NormalizeContact(crm::contacts::v1::Contact& contact, absl::string_view phone_region,
                              absl::string_view field);
absl::Status NormalizeCompany(crm::contacts::v1::Company& company, absl::string_view field);
// The unique keys of a normalised contact's emails (trimmed, case-folded), in order.
std::vector<std::string> EmailKeys(const crm::contacts::v1::Contact& contact);
// Request ids and etags: the one rule of every service (common/api/request_fields.h).
using api::ValidateRequestId;

// Copies the fields named by `mask` from `patch` onto `target` (AIP-134): an empty mask means the
// fields set in `patch`, "*" every writable field. Unknown or output-only paths are
// INVALID_ARGUMENT naming "update_mask", and then `target` is unchanged.
absl::Status ApplyContactMask(const crm::contacts::v1::Contact& patch,
                              const google::protobuf::FieldMask& mask,
                              crm::contacts::v1::Contact& target);
absl::Status ApplyCompanyMask(const crm::contacts::v1::Company& patch,
                              const google::protobuf::FieldMask& mask,
                              crm::contacts::v1::Company& target);
absl::Status ApplyTenantSettingsMask(const crm::contacts::v1::TenantSettings& patch,
                                     const google::protobuf::FieldMask& mask,
                                     crm::contacts::v1::TenantSettings& target);
absl::Status ValidateTenantSettings(const crm::contacts::v1::TenantSettings& settings);

// Who may create a record owned by `owner`, and change one: reps only their own records, and they
// cannot hand records to someone else; managers and admins anything in their tenant.
absl::Status CheckCanCreateFor(const auth::Principal& caller, absl::string_view owner);
absl::Status CheckCanChange(const auth::Principal& caller, absl::string_view current_owner,
                            absl::string_view new_owner);

using api::CheckEtag;

// Enum values as stored in SQL ("lead", "email_marketing"); "" for UNSPECIFIED.
std::string LifecycleStageToText(crm::contacts::v1::LifecycleStage stage);
crm::contacts::v1::LifecycleStage LifecycleStageFromText(absl::string_view text);
std::string LeadSourceToText(crm::contacts::v1::LeadSource source);
crm::contacts::v1::LeadSource LeadSourceFromText(absl::string_view text);

}  // namespace crm::contacts
