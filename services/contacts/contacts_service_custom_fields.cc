// ContactsService: custom field definitions of contacts and companies (common/fields has the
// rules and the SQL), and the one path record writes take to validate their values.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/api/request_fields.h"
#include "common/base/status_macros.h"
#include "common/fields/custom_field_filters.h"
#include "common/fields/value_normalizers.h"
#include "common/ids/uuid.h"
#include "services/contacts/contact_filters.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"

namespace crm::contacts {
namespace {

using common::v1::ObjectType;

// What this slice does not do yet, refused rather than accepted and ignored.
absl::Status CheckSupported(const fields::Definition& d) {
  if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION &&
      d.relation_object() != common::v1::OBJECT_TYPE_CONTACT &&
      d.relation_object() != common::v1::OBJECT_TYPE_COMPANY) {
    return absl::UnimplementedError(
        "custom_field.relation_object: contacts and companies relate to contacts or companies "
        "for now");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ContactsService::CheckRelations(const std::string& tenant,
                                             const fields::Values& values, absl::string_view field,
                                             absl::Time deadline) {
  for (const auto& [key, value] : values) {
    if (value.kind_case() != fields::Value::kRecord) continue;
    // A malformed name is the value rules' to refuse (INVALID_ARGUMENT), not a missing record.
    absl::string_view id = value.record();
    if ((!absl::ConsumePrefix(&id, kContactPrefix) && !absl::ConsumePrefix(&id, kCompanyPrefix)) ||
        !ids::IsCanonicalUuid(id)) {
      continue;
    }
    ASSIGN_OR_RETURN(bool exists, store_.RecordExists(tenant, value.record(), deadline));
    if (!exists) {
      return absl::NotFoundError(
          absl::StrCat(field, ".", api::EscapedEcho(key, 64), ": ", value.record(), " not found"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<api::SqlFilter> ContactsService::CompileContactFilter(const std::string& tenant,
                                                                     const std::string& filter,
                                                                     int first_param,
                                                                     absl::Time deadline) {
  return fields_api_.CompileFilter(tenant, ObjectType::OBJECT_TYPE_CONTACT, ContactFilterSchema(),
                                   filter, first_param, deadline);
}

absl::Status ContactsService::CheckNewValues(const std::string& tenant,
                                             const fields::Snapshot& snapshot,
                                             fields::Values& values,
                                             const fields::Normalizers& normalizers,
                                             absl::string_view field, absl::Time deadline) {
  RETURN_IF_ERROR(fields::NormalizeValues(values, snapshot.definitions, /*creating=*/true, nullptr,
                                          normalizers, field));
  return CheckRelations(tenant, values, field, deadline);
}

fields::CustomFieldsApi::Hooks ContactsService::FieldsHooks() {
  fields::CustomFieldsApi::Hooks hooks;
  hooks.normalizers = [this](const std::string& tenant,
                             absl::Time deadline) -> absl::StatusOr<fields::Normalizers> {
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(tenant, deadline));
    return fields::StandardNormalizers(settings.default_phone_region());
  };
  hooks.supported = CheckSupported;
  hooks.resource_type = [](ObjectType object) {
    return std::string(object == ObjectType::OBJECT_TYPE_COMPANY ? kCompanyType : kContactType);
  };
  return hooks;
}

}  // namespace crm::contacts
