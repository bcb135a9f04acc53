// The five custom field RPCs (crm.common.v1 requests) of a service whose objects carry custom
// fields, for its generated callback service: each served on the service's one RPC path by its
// CustomFieldsApi. A service derives from ServesCustomFields<v1::XService::CallbackService>.
#pragma once

#include <google/protobuf/empty.pb.h>

#include "common/fields/custom_fields_api.h"
#include "common/server/rpc.h"
#include "crm/common/v1/custom_fields.pb.h"

namespace crm::fields {

template <typename GeneratedService>
class ServesCustomFields : public GeneratedService {
 public:
  grpc::ServerUnaryReactor* CreateCustomField(
      grpc::CallbackServerContext* context, const common::v1::CreateCustomFieldRequest* request,
      common::v1::CustomFieldDefinition* response) override {
    return rpcs().Serve(context, request, [=, this](const server::Call& call) {
      return fields_api().Create(call, *request, *response);
    });
  }
  grpc::ServerUnaryReactor* GetCustomField(grpc::CallbackServerContext* context,
                                           const common::v1::GetCustomFieldRequest* request,
                                           common::v1::CustomFieldDefinition* response) override {
    return rpcs().Serve(context, request, [=, this](const server::Call& call) {
      return fields_api().Get(call, *request, *response);
    });
  }
  grpc::ServerUnaryReactor* ListCustomFields(
      grpc::CallbackServerContext* context, const common::v1::ListCustomFieldsRequest* request,
      common::v1::ListCustomFieldsResponse* response) override {
    return rpcs().Serve(context, request, [=, this](const server::Call& call) {
      return fields_api().List(call, *request, *response);
    });
  }
  grpc::ServerUnaryReactor* UpdateCustomField(
      grpc::CallbackServerContext* context, const common::v1::UpdateCustomFieldRequest* request,
      common::v1::CustomFieldDefinition* response) override {
    return rpcs().Serve(context, request, [=, this](const server::Call& call) {
      return fields_api().Update(call, *request, *response);
    });
  }
  grpc::ServerUnaryReactor* DeleteCustomField(grpc::CallbackServerContext* context,
                                              const common::v1::DeleteCustomFieldRequest* request,
                                              google::protobuf::Empty*) override {
    return rpcs().Serve(context, request, [=, this](const server::Call& call) {
      return fields_api().Delete(call, *request);
    });
  }

 protected:
  // The service's RPC path and its custom fields.
  virtual const server::Rpcs& rpcs() const = 0;
  virtual CustomFieldsApi& fields_api() = 0;
};

}  // namespace crm::fields
