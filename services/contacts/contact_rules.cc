#include "services/contacts/contact_rules.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/field_mask.h"
#include "common/base/status_macros.h"
#include "common/base/time_zone_name.h"
#include "common/ids/uuid.h"
#include "common/text/normalize.h"

namespace crm::contacts {
namespace {

using crm::contacts::v1::Company;
using crm::contacts::v1::Contact;
using crm::contacts::v1::LeadSource;
using crm::contacts::v1::LifecycleStage;
using crm::contacts::v1::TenantSettings;

std::string Path(absl::string_view parent, absl::string_view child) {
  return absl::StrCat(parent, ".", child);
}

std::string Indexed(absl::string_view parent, absl::string_view child, int i) {
  return absl::StrCat(parent, ".", child, "[", i, "]");
}

// Cleans a free-text field in place, naming the field on error.
absl::Status CleanField(std::string* value, size_t max_chars, const std::string& field) {
  auto cleaned = text::CleanText(*value, max_chars);
  if (!cleaned.ok()) return api::InvalidField(field, cleaned.status().message());
  *value = *std::move(cleaned);
  return absl::OkStatus();
}

absl::Status NormalizeTags(google::protobuf::RepeatedPtrField<std::string>* tags,
                           absl::string_view parent) {
  if (tags->size() > kMaxTags) {
    return api::InvalidField(Path(parent, "tags"), absl::StrCat("at most ", kMaxTags, " tags"));
  }
  std::vector<std::string> out;
  for (int i = 0; i < tags->size(); ++i) {
    std::string tag = tags->Get(i);
    RETURN_IF_ERROR(CleanField(&tag, kMaxTagChars, Indexed(parent, "tags", i)));
    if (tag.empty()) return api::InvalidField(Indexed(parent, "tags", i), "must not be empty");
    if (std::find(out.begin(), out.end(), tag) == out.end()) out.push_back(tag);
  }
  tags->Clear();
  for (std::string& tag : out) tags->Add(std::move(tag));
  return absl::OkStatus();
}

absl::Status NormalizeAttributes(google::protobuf::Map<std::string, std::string>& attributes,
                                 absl::string_view parent) {
  if (attributes.size() > kMaxAttributes) {
    return api::InvalidField(Path(parent, "attributes"),
                             absl::StrCat("at most ", kMaxAttributes, " attributes"));
  }
  for (auto& [key, value] : attributes) {
    const std::string field = absl::StrCat(parent, ".attributes[", key.substr(0, 64), "]");
    if (key.empty() || key.size() > kMaxAttributeKeyChars ||
        key.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
            std::string::npos) {
      return api::InvalidField(field, "keys are 1-64 characters of letters, digits, '_', '-', '.'");
    }
    auto cleaned = text::CleanText(value, kMaxAttributeValueChars);
    if (!cleaned.ok()) return api::InvalidField(field, cleaned.status().message());
    value = *std::move(cleaned);
  }
  return absl::OkStatus();
}

absl::Status ValidateOwner(const std::string& owner, absl::string_view parent) {
  if (owner.size() > 128 || !text::CleanText(owner, 128).ok()) {
    return api::InvalidField(Path(parent, "owner"), "must be a user id of up to 128 characters");
  }
  return absl::OkStatus();
}

// "LIFECYCLE_STAGE_CUSTOMER" -> "customer".
std::string EnumText(const std::string& name, absl::string_view prefix) {
  if (!absl::StartsWith(name, prefix)) return "";
  std::string text = absl::AsciiStrToLower(name.substr(prefix.size()));
  return text == "unspecified" ? "" : text;
}

}  // namespace

absl::StatusOr<std::string> ParseResourceId(absl::string_view name, absl::string_view prefix,
                                            absl::string_view field) {
  if (name.empty()) return api::InvalidField(field, "required");
  if (!absl::StartsWith(name, prefix) || !ids::IsCanonicalUuid(name.substr(prefix.size()))) {
    return api::InvalidField(field, absl::StrCat("must look like ", prefix, "{uuid}"));
  }
  return std::string(name.substr(prefix.size()));
}

absl::Status NormalizeContact(Contact& contact, absl::string_view phone_region,
                              absl::string_view field) {
  RETURN_IF_ERROR(
      CleanField(contact.mutable_given_name(), kMaxNameChars, Path(field, "given_name")));
  RETURN_IF_ERROR(
      CleanField(contact.mutable_family_name(), kMaxNameChars, Path(field, "family_name")));
  RETURN_IF_ERROR(CleanField(contact.mutable_job_title(), kMaxNameChars, Path(field, "job_title")));
  RETURN_IF_ERROR(CleanField(contact.mutable_campaign(), kMaxNameChars, Path(field, "campaign")));

  if (contact.emails_size() > kMaxEmails) {
    return api::InvalidField(Path(field, "emails"), absl::StrCat("at most ", kMaxEmails));
  }
  // Addresses are kept as typed (folding is lossy: "ß" -> "ss"); uniqueness is on their keys.
  std::vector<std::string> emails;
  std::vector<std::string> keys;
  for (int i = 0; i < contact.emails_size(); ++i) {
    auto key = text::NormalizeEmail(contact.emails(i));
    if (!key.ok()) return api::InvalidField(Indexed(field, "emails", i), key.status().message());
    if (std::find(keys.begin(), keys.end(), *key) != keys.end()) continue;
    keys.push_back(*key);
    auto typed = text::CleanText(contact.emails(i), 254);
    if (!typed.ok())
      return api::InvalidField(Indexed(field, "emails", i), typed.status().message());
    emails.push_back(*std::move(typed));
  }
  contact.clear_emails();
  for (std::string& e : emails) contact.add_emails(std::move(e));

  if (contact.phones_size() > kMaxPhones) {
    return api::InvalidField(Path(field, "phones"), absl::StrCat("at most ", kMaxPhones));
  }
  std::vector<std::string> phones;
  for (int i = 0; i < contact.phones_size(); ++i) {
    auto phone = text::NormalizePhone(contact.phones(i),
                                      std::string_view(phone_region.data(), phone_region.size()));
    if (!phone.ok())
      return api::InvalidField(Indexed(field, "phones", i), phone.status().message());
    if (std::find(phones.begin(), phones.end(), *phone) == phones.end()) phones.push_back(*phone);
  }
  contact.clear_phones();
  for (std::string& p : phones) contact.add_phones(std::move(p));

  if (contact.given_name().empty() && contact.family_name().empty() && contact.emails().empty() &&
      contact.phones().empty()) {
    return api::InvalidField(Path(field, "given_name"),
                             "a contact needs a name, an email or a phone");
  }
  if (!contact.company().empty()) {
    RETURN_IF_ERROR(
        ParseResourceId(contact.company(), kCompanyPrefix, Path(field, "company")).status());
  }
  if (!v1::LifecycleStage_IsValid(contact.lifecycle_stage())) {
    return api::InvalidField(Path(field, "lifecycle_stage"), "unknown value");
  }
  if (!v1::LeadSource_IsValid(contact.lead_source())) {
    return api::InvalidField(Path(field, "lead_source"), "unknown value");
  }
  RETURN_IF_ERROR(ValidateOwner(contact.owner(), field));
  RETURN_IF_ERROR(NormalizeTags(contact.mutable_tags(), field));
  return NormalizeAttributes(*contact.mutable_attributes(), field);
}

std::vector<std::string> EmailKeys(const Contact& contact) {
  std::vector<std::string> keys;
  for (const std::string& email : contact.emails()) {
    auto key = text::NormalizeEmail(email);
    keys.push_back(key.ok() ? *key : email);
  }
  return keys;
}

absl::Status NormalizeCompany(Company& company, absl::string_view field) {
  RETURN_IF_ERROR(
      CleanField(company.mutable_display_name(), kMaxNameChars, Path(field, "display_name")));
  if (company.display_name().empty()) {
    return api::InvalidField(Path(field, "display_name"), "required");
  }
  if (!company.domain().empty()) {
    auto domain = text::NormalizeDomain(company.domain());
    if (!domain.ok()) return api::InvalidField(Path(field, "domain"), domain.status().message());
    company.set_domain(*domain);
  }
  RETURN_IF_ERROR(CleanField(company.mutable_industry(), kMaxNameChars, Path(field, "industry")));
  RETURN_IF_ERROR(CleanField(company.mutable_campaign(), kMaxNameChars, Path(field, "campaign")));
  if (!v1::LifecycleStage_IsValid(company.lifecycle_stage())) {
    return api::InvalidField(Path(field, "lifecycle_stage"), "unknown value");
  }
  if (!v1::LeadSource_IsValid(company.lead_source())) {
    return api::InvalidField(Path(field, "lead_source"), "unknown value");
  }
  RETURN_IF_ERROR(ValidateOwner(company.owner(), field));
  RETURN_IF_ERROR(NormalizeTags(company.mutable_tags(), field));
  return NormalizeAttributes(*company.mutable_attributes(), field);
}

absl::Status ApplyContactMask(const Contact& patch, const google::protobuf::FieldMask& mask,
                              Contact& target) {
  static const auto* writable = new std::set<std::string>{
      "given_name",      "family_name", "emails",   "phones", "company",    "job_title",    "owner",
      "lifecycle_stage", "lead_source", "campaign", "tags",   "attributes", "custom_fields"};
  return api::ApplyUpdateMask(patch, mask, *writable, target).status();
}

absl::Status ApplyCompanyMask(const Company& patch, const google::protobuf::FieldMask& mask,
                              Company& target) {
  static const auto* writable = new std::set<std::string>{
      "display_name", "domain",   "industry", "owner",      "lifecycle_stage",
      "lead_source",  "campaign", "tags",     "attributes", "custom_fields"};
  return api::ApplyUpdateMask(patch, mask, *writable, target).status();
}

absl::Status ApplyTenantSettingsMask(const TenantSettings& patch,
                                     const google::protobuf::FieldMask& mask,
                                     TenantSettings& target) {
  static const auto* writable =
      new std::set<std::string>{"display_name",     "default_phone_region",    "time_zone",
                                "default_currency", "fiscal_year_start_month", "renewal_lead_days"};
  return api::ApplyUpdateMask(patch, mask, *writable, target).status();
}

absl::Status ValidateTenantSettings(const TenantSettings& s) {
  if (!text::CleanText(s.display_name(), kMaxNameChars).ok()) {
    return api::InvalidField("settings.display_name", "invalid text");
  }
  if (!text::IsValidRegionCode(s.default_phone_region())) {
    return api::InvalidField("settings.default_phone_region",
                             "must be an ISO 3166-1 alpha-2 region such as AM or US");
  }
  if (!IsIanaZoneName(s.time_zone())) {
    return api::InvalidField("settings.time_zone",
                             "must be an IANA time zone such as Asia/Yerevan");
  }
  const std::string& c = s.default_currency();
  if (c.size() != 3 ||
      !std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; })) {
    return api::InvalidField("settings.default_currency", "must be an ISO 4217 code such as USD");
  }
  if (s.fiscal_year_start_month() < 1 || s.fiscal_year_start_month() > 12) {
    return api::InvalidField("settings.fiscal_year_start_month", "must be 1..12");
  }
  if (s.renewal_lead_days() < 0 || s.renewal_lead_days() > 3650) {
    return api::InvalidField("settings.renewal_lead_days", "must be 0..3650");
  }
  return absl::OkStatus();
}

absl::Status CheckCanCreateFor(const auth::Principal& caller, absl::string_view owner) {
  if (caller.CanChangeOwnedBy(owner)) return absl::OkStatus();
  return absl::PermissionDeniedError("reps create records for themselves only; ask a manager");
}

absl::Status CheckCanChange(const auth::Principal& caller, absl::string_view current_owner,
                            absl::string_view new_owner) {
  if (!caller.CanChangeOwnedBy(current_owner)) {
    return absl::PermissionDeniedError("reps change only the records they own");
  }
  if (!caller.CanChangeOwnedBy(new_owner)) {
    return absl::PermissionDeniedError("reps cannot hand records to someone else");
  }
  return absl::OkStatus();
}

std::string LifecycleStageToText(LifecycleStage stage) {
  return EnumText(v1::LifecycleStage_Name(stage), "LIFECYCLE_STAGE_");
}

LifecycleStage LifecycleStageFromText(absl::string_view text) {
  LifecycleStage stage = v1::LIFECYCLE_STAGE_UNSPECIFIED;
  if (!text.empty()) {
    v1::LifecycleStage_Parse(absl::StrCat("LIFECYCLE_STAGE_", absl::AsciiStrToUpper(text)), &stage);
  }
  return stage;
}

std::string LeadSourceToText(LeadSource source) {
  return EnumText(v1::LeadSource_Name(source), "LEAD_SOURCE_");
}

LeadSource LeadSourceFromText(absl::string_view text) {
  LeadSource source = v1::LEAD_SOURCE_UNSPECIFIED;
  if (!text.empty()) {
    v1::LeadSource_Parse(absl::StrCat("LEAD_SOURCE_", absl::AsciiStrToUpper(text)), &source);
  }
  return source;
}

}  // namespace crm::contacts
