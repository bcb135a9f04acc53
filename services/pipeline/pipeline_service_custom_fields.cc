// PipelineService: the custom field rules of deals and products (the definition RPCs come from
// fields::ServesCustomFields, the rules and SQL from common/fields).
#include "absl/strings/str_cat.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "services/pipeline/pipeline_service.h"

namespace crm::pipeline {

fields::CustomFieldsApi::Hooks PipelineService::FieldsHooks() {
  fields::CustomFieldsApi::Hooks hooks = fields::CustomFieldsApi::WithoutRegionOrRelations(
      {{common::v1::OBJECT_TYPE_DEAL, v1::Deal::descriptor()->full_name()},
       {common::v1::OBJECT_TYPE_PRODUCT, v1::Product::descriptor()->full_name()}});
  // Related contacts and companies are checked in the contacts service, as a deal's contact is.
  hooks.supported = [](const fields::Definition& d) -> absl::Status {
    if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION &&
        d.relation_object() != common::v1::OBJECT_TYPE_CONTACT &&
        d.relation_object() != common::v1::OBJECT_TYPE_COMPANY) {
      return absl::UnimplementedError(
          "custom_field.relation_object: deals and products relate to contacts or companies for "
          "now");
    }
    return absl::OkStatus();
  };
  return hooks;
}

absl::Status PipelineService::CheckRelations(const server::Call& call, const fields::Values& values,
                                             const fields::Values* before,
                                             absl::string_view field) {
  for (const auto& [key, value] : values) {
    if (value.kind_case() != fields::Value::kRecord) continue;
    if (before != nullptr) {
      auto it = before->find(key);
      if (it != before->end() && it->second.record() == value.record()) continue;
    }
    RETURN_IF_ERROR(contacts_.CheckExists(value.record(), absl::StrCat(field, ".", key),
                                          call.authorization, call.deadline));
  }
  return absl::OkStatus();
}

}  // namespace crm::pipeline
