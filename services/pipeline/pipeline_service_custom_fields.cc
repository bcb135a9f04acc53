// PipelineService: custom field definitions of deals, served by the shared CustomFieldsApi
// (common/fields has the rules and the SQL).
#include "common/fields/value_normalizers.h"
#include "services/pipeline/pipeline_service.h"

namespace crm::pipeline {

fields::CustomFieldsApi::Hooks PipelineService::FieldsHooks() {
  fields::CustomFieldsApi::Hooks hooks;
  hooks.normalizers = [](const std::string&, absl::Time) -> absl::StatusOr<fields::Normalizers> {
    return fields::StandardNormalizers("");
  };
  // Refused rather than accepted and ignored: this service cannot check the related record yet.
  hooks.supported = [](const fields::Definition& d) -> absl::Status {
    if (d.type() == common::v1::CUSTOM_FIELD_TYPE_RELATION) {
      return absl::UnimplementedError(
          "custom_field.type: relation fields on deals are not available yet");
    }
    return absl::OkStatus();
  };
  hooks.resource_type = [](common::v1::ObjectType) { return v1::Deal::descriptor()->full_name(); };
  return hooks;
}

grpc::ServerUnaryReactor* PipelineService::CreateCustomField(
    grpc::CallbackServerContext* context, const common::v1::CreateCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) {
    return fields_api_.Create(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* PipelineService::GetCustomField(
    grpc::CallbackServerContext* context, const common::v1::GetCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) {
    return fields_api_.Get(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* PipelineService::ListCustomFields(
    grpc::CallbackServerContext* context, const common::v1::ListCustomFieldsRequest* request,
    common::v1::ListCustomFieldsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) {
    return fields_api_.List(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* PipelineService::UpdateCustomField(
    grpc::CallbackServerContext* context, const common::v1::UpdateCustomFieldRequest* request,
    common::v1::CustomFieldDefinition* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) {
    return fields_api_.Update(call, *request, *response);
  });
}

grpc::ServerUnaryReactor* PipelineService::DeleteCustomField(
    grpc::CallbackServerContext* context, const common::v1::DeleteCustomFieldRequest* request,
    google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) {
    return fields_api_.Delete(call, *request);
  });
}

}  // namespace crm::pipeline
