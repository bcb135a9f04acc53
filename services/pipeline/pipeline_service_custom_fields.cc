// PipelineService: custom field definitions of deals, served by the shared CustomFieldsApi
// (common/fields has the rules and the SQL).
#include "services/pipeline/pipeline_service.h"

namespace crm::pipeline {

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
