// ContactsService: custom field definitions of contacts and companies (common/fields has the
// rules and the SQL), and the one path record writes take to validate their values.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/api/request_fields.h"
#include "common/base/status_macros.h"
#include "common/fields/custom_field_filters.h"
#include "common/ids/uuid.h"
#include "services/contacts/contact_filters.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/normalize.h"

namespace crm::contacts {
namespace {

using common::v1::ObjectType;

// What this slice does not do yet, refused rather than accepted and ignored.
absl::Status CheckSupported(const fields::Definition& d) {
  if (d.unique()) {
    return absl::UnimplementedError(
        "custom_field.unique: unique custom fields are not available yet");
  }
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

fields::Normalizers ContactsService::FieldNormalizers(const std::string& phone_region) const {
  fields::Normalizers n;
  n.text = [](absl::string_view text, size_t max_chars) {
    return CleanText(std::string_view(text.data(), text.size()), max_chars);
  };
  n.email = [](absl::string_view email) {
    return NormalizeEmail(std::string_view(email.data(), email.size()));
  };
  n.phone = [phone_region](absl::string_view phone) {
    return NormalizePhone(std::string_view(phone.data(), phone.size()), phone_region);
  };
  return n;
}

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

absl::StatusOr<api::SqlFilter> ContactsService::CompileFilterWithFields(
    const std::string& tenant, ObjectType object, const api::FilterSchema& base,
    const std::string& filter, int first_param, absl::Time deadline) {
  if (filter.empty()) return api::SqlFilter{};
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<const fields::Snapshot> snapshot,
                     custom_fields_.Current(tenant, object, deadline));
    absl::StatusOr<api::SqlFilter> compiled = api::CompileFilter(
        filter, fields::WithCustomFields(base, snapshot->definitions, "custom_fields"),
        first_param);
    if (compiled.ok() || attempt > 0 ||
        compiled.status().code() != absl::StatusCode::kInvalidArgument) {
      return compiled;
    }
    custom_fields_.Forget(tenant, object);
  }
}

absl::StatusOr<api::SqlFilter> ContactsService::CompileContactFilter(const std::string& tenant,
                                                                     const std::string& filter,
                                                                     int first_param,
                                                                     absl::Time deadline) {
  return CompileFilterWithFields(tenant, ObjectType::OBJECT_TYPE_CONTACT, ContactFilterSchema(),
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

WriteGuard ContactsService::FieldsGuard(ObjectType object, int64_t version) const {
  return [this, object, version](db::Transaction& tx) {
    custom_fields_.QueueVersionCheck(tx, object, version);
  };
}

absl::Status ContactsService::WithCustomFields(
    const std::string& tenant, ObjectType object, absl::Time deadline,
    const std::function<absl::Status(const fields::Snapshot&)>& write) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<const fields::Snapshot> snapshot,
                     custom_fields_.Current(tenant, object, deadline));
    absl::Status status = write(*snapshot);
    if (attempt > 0 || !fields::DefinitionStore::IsStale(status)) return status;
    custom_fields_.Forget(tenant, object);
  }
}

grpc::ServerUnaryReactor* ContactsService::CreateCustomField(
    grpc::CallbackServerContext* context, const common::v1::CreateCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ObjectType object, fields::ParseParent(request->parent(), "parent"));
    RETURN_IF_ERROR(custom_fields_.CheckOwned(object));
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(call.caller.tenant, call.deadline));
    fields::Definition definition = request->custom_field();
    RETURN_IF_ERROR(fields::NormalizeNewDefinition(
        definition, object, FieldNormalizers(settings.default_phone_region()), "custom_field"));
    RETURN_IF_ERROR(CheckSupported(definition));
    ASSIGN_OR_RETURN(*response, custom_fields_.Create(call.caller.tenant, definition,
                                                      call.caller.user, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::GetCustomField(
    grpc::CallbackServerContext* context, const common::v1::GetCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(fields::DefinitionName name,
                     fields::ParseDefinitionName(request->name(), "name"));
    ASSIGN_OR_RETURN(*response,
                     custom_fields_.Get(call.caller.tenant, name.object, name.key, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListCustomFields(
    grpc::CallbackServerContext* context, const common::v1::ListCustomFieldsRequest* request,
    common::v1::ListCustomFieldsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ObjectType object, fields::ParseParent(request->parent(), "parent"));
    ASSIGN_OR_RETURN(
        std::vector<fields::Definition> definitions,
        custom_fields_.List(call.caller.tenant, object, request->show_archived(), call.deadline));
    for (auto& d : definitions) *response->add_custom_fields() = std::move(d);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::UpdateCustomField(
    grpc::CallbackServerContext* context, const common::v1::UpdateCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(
        fields::DefinitionName name,
        fields::ParseDefinitionName(request->custom_field().name(), "custom_field.name"));
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(call.caller.tenant, call.deadline));
    const fields::Normalizers normalizers = FieldNormalizers(settings.default_phone_region());
    auto mutate = [&](const fields::Definition& current) -> absl::StatusOr<fields::Definition> {
      RETURN_IF_ERROR(api::CheckEtag(request->custom_field().etag(), current.etag()));
      fields::Definition next = current;
      RETURN_IF_ERROR(fields::ApplyDefinitionUpdate(request->custom_field(), request->update_mask(),
                                                    normalizers, next));
      return next;
    };
    ASSIGN_OR_RETURN(*response, custom_fields_.Update(call.caller.tenant, name.object, name.key,
                                                      call.caller.user, mutate, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::DeleteCustomField(
    grpc::CallbackServerContext* context, const common::v1::DeleteCustomFieldRequest* request,
    google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(fields::DefinitionName name,
                     fields::ParseDefinitionName(request->name(), "name"));
    auto check = [&](const fields::Definition& current) {
      return api::CheckEtag(request->etag(), current.etag());
    };
    return custom_fields_.Delete(call.caller.tenant, name.object, name.key, call.caller.user, check,
                                 call.deadline);
  });
}

}  // namespace crm::contacts
