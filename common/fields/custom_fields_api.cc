#include "common/fields/custom_fields_api.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/order_by.h"
#include "common/api/request_fields.h"
#include "common/base/status_macros.h"
#include "common/fields/custom_field_filters.h"
#include "common/fields/value_normalizers.h"

namespace crm::fields {

using common::v1::ObjectType;

CustomFieldsApi::Hooks CustomFieldsApi::WithoutRegionOrRelations(
    std::map<ObjectType, std::string> resource_types) {
  Hooks hooks;
  hooks.normalizers = [](const std::string&, absl::Time) -> absl::StatusOr<Normalizers> {
    return StandardNormalizers("");
  };
  // Refused rather than accepted and ignored: the service cannot check the related record yet.
  hooks.supported = [](const Definition& d) -> absl::Status {
    if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION) {
      return absl::UnimplementedError(absl::StrCat("custom_field.type: relation fields on ",
                                                   ObjectSegment(d.object_type()),
                                                   " records are not available yet"));
    }
    return absl::OkStatus();
  };
  hooks.resource_type = [types = std::move(resource_types)](ObjectType object) {
    auto it = types.find(object);
    return it == types.end() ? std::string() : it->second;
  };
  return hooks;
}

absl::Status CustomFieldsApi::Create(const server::Call& call,
                                     const common::v1::CreateCustomFieldRequest& request,
                                     Definition& response) {
  ASSIGN_OR_RETURN(ObjectType object, ParseParent(request.parent(), "parent"));
  RETURN_IF_ERROR(store_.CheckOwned(object));
  ASSIGN_OR_RETURN(Normalizers normalizers, hooks_.normalizers(call.caller.tenant, call.deadline));
  Definition definition = request.custom_field();
  RETURN_IF_ERROR(NormalizeNewDefinition(definition, object, normalizers, "custom_field"));
  RETURN_IF_ERROR(hooks_.supported(definition));
  ASSIGN_OR_RETURN(response,
                   store_.Create(call.caller.tenant, definition, call.caller.user, call.deadline));
  return absl::OkStatus();
}

absl::Status CustomFieldsApi::Get(const server::Call& call,
                                  const common::v1::GetCustomFieldRequest& request,
                                  Definition& response) {
  ASSIGN_OR_RETURN(DefinitionName name, ParseDefinitionName(request.name(), "name"));
  ASSIGN_OR_RETURN(response, store_.Get(call.caller.tenant, name.object, name.key, call.deadline));
  return absl::OkStatus();
}

absl::Status CustomFieldsApi::List(const server::Call& call,
                                   const common::v1::ListCustomFieldsRequest& request,
                                   common::v1::ListCustomFieldsResponse& response) {
  ASSIGN_OR_RETURN(ObjectType object, ParseParent(request.parent(), "parent"));
  ASSIGN_OR_RETURN(std::vector<Definition> definitions,
                   store_.List(call.caller.tenant, object, request.show_archived(), call.deadline));
  for (auto& d : definitions) *response.add_custom_fields() = std::move(d);
  return absl::OkStatus();
}

absl::Status CustomFieldsApi::Update(const server::Call& call,
                                     const common::v1::UpdateCustomFieldRequest& request,
                                     Definition& response) {
  ASSIGN_OR_RETURN(DefinitionName name,
                   ParseDefinitionName(request.custom_field().name(), "custom_field.name"));
  ASSIGN_OR_RETURN(Normalizers normalizers, hooks_.normalizers(call.caller.tenant, call.deadline));
  auto mutate = [&](const Definition& current) -> absl::StatusOr<Definition> {
    RETURN_IF_ERROR(api::CheckEtag(request.custom_field().etag(), current.etag()));
    Definition next = current;
    RETURN_IF_ERROR(
        ApplyDefinitionUpdate(request.custom_field(), request.update_mask(), normalizers, next));
    return next;
  };
  ASSIGN_OR_RETURN(response, store_.Update(call.caller.tenant, name.object, name.key,
                                           call.caller.user, mutate, call.deadline));
  return absl::OkStatus();
}

absl::Status CustomFieldsApi::Delete(const server::Call& call,
                                     const common::v1::DeleteCustomFieldRequest& request) {
  ASSIGN_OR_RETURN(DefinitionName name, ParseDefinitionName(request.name(), "name"));
  auto check = [&](const Definition& current) {
    return api::CheckEtag(request.etag(), current.etag());
  };
  return store_.Delete(call.caller.tenant, name.object, name.key, call.caller.user, check,
                       call.deadline);
}

absl::Status CustomFieldsApi::WriteRecord(const std::string& tenant, ObjectType object,
                                          absl::string_view field, absl::Time deadline,
                                          const Write& write) {
  const UniqueValues& unique = store_.unique();
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                     store_.Current(tenant, object, deadline));
    UniqueClaims claims;
    const WriteGuard guard = [&](db::Transaction& tx, const std::string& record,
                                 const Values& values) {
      store_.QueueVersionCheck(tx, object, snapshot->version);
      claims = unique.QueueClaims(tx, object, snapshot->definitions, record, values);
    };
    absl::Status status = write(*snapshot, guard);
    if (UniqueValues::IsConflict(status)) {
      return unique.ConflictError(tenant, object, claims, field, hooks_.resource_type(object),
                                  deadline);
    }
    if (attempt > 0 || !DefinitionStore::IsStale(status)) return status;
    store_.Forget(tenant, object);
  }
}

absl::StatusOr<api::SqlFilter> CustomFieldsApi::CompileFilter(
    const std::string& tenant, ObjectType object, const api::FilterSchema& base,
    const std::string& filter, int first_param, absl::Time deadline) {
  if (filter.empty()) return api::SqlFilter{};
  const UniqueLookup claims{store_.unique().Table(), std::string(ObjectSegment(object)),
                            hooks_.id_column};
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                     store_.Current(tenant, object, deadline));
    absl::StatusOr<api::SqlFilter> compiled = api::CompileFilter(
        filter, WithCustomFields(base, snapshot->definitions, "custom_fields", &claims),
        first_param);
    if (compiled.ok() || attempt > 0 ||
        compiled.status().code() != absl::StatusCode::kInvalidArgument) {
      return compiled;
    }
    store_.Forget(tenant, object);
  }
}

absl::StatusOr<std::string> CustomFieldsApi::CompileOrderBy(
    const std::string& tenant, ObjectType object, const std::map<std::string, std::string>& base,
    const std::string& order_by, absl::string_view tiebreak, absl::Time deadline) {
  if (order_by.empty() || !absl::StrContains(order_by, "custom_fields.")) {
    return api::OrderBySql(order_by, base, tiebreak);
  }
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                     store_.Current(tenant, object, deadline));
    std::map<std::string, std::string> columns =
        SortColumns(snapshot->definitions, "custom_fields");
    columns.insert(base.begin(), base.end());
    absl::StatusOr<std::string> compiled = api::OrderBySql(order_by, columns, tiebreak);
    if (compiled.ok() || attempt > 0 ||
        compiled.status().code() != absl::StatusCode::kInvalidArgument) {
      return compiled;
    }
    store_.Forget(tenant, object);
  }
}

}  // namespace crm::fields
