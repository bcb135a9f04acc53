// gRPC adapter of the contacts service: authenticates the caller, applies the business rules,
// calls the store, and converts absl::Status to grpc::Status (with google.rpc details).
#pragma once

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/authenticator.h"
#include "common/fields/custom_field_service.h"
#include "common/fields/custom_fields_api.h"
#include "common/fields/definition_store.h"
#include "common/server/executor.h"
#include "common/server/rpc.h"
#include "common/server/stream_limiter.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"
#include "services/contacts/activity_store.h"
#include "services/contacts/contacts_store.h"
#include "services/contacts/segment_store.h"

namespace crm::contacts {

class ContactImporter;

struct ContactsServiceOptions {
  // Phone region and other settings of tenants that never changed them.
  v1::TenantSettings default_settings;
  // How long a tenant's settings are cached (phone region is read on every create).
  absl::Duration settings_cache_ttl = absl::Seconds(10);
  // Open imports and exports per user, per tenant and in all on one replica.
  server::StreamLimits streams;
};

// Every RPC goes through rpcs_ (common/server/rpc.h): unary ones through Serve, the streams
// (ImportContacts, ExportSegment, reactors whose database work runs on the executor) Authorize.
class ContactsService final
    : public fields::ServesCustomFields<v1::ContactsService::CallbackService> {
 public:
  ContactsService(ContactsStore& store, ActivityStore& activities, SegmentStore& segments,
                  fields::DefinitionStore& custom_fields, const auth::Authenticator& authenticator,
                  server::Executor& executor, ContactsServiceOptions options);

  grpc::ServerUnaryReactor* CreateContact(grpc::CallbackServerContext* context,
                                          const v1::CreateContactRequest* request,
                                          v1::Contact* response) override;
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const v1::GetContactRequest* request,
                                       v1::Contact* response) override;
  grpc::ServerUnaryReactor* ListContacts(grpc::CallbackServerContext* context,
                                         const v1::ListContactsRequest* request,
                                         v1::ListContactsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateContact(grpc::CallbackServerContext* context,
                                          const v1::UpdateContactRequest* request,
                                          v1::Contact* response) override;
  grpc::ServerUnaryReactor* DeleteContact(grpc::CallbackServerContext* context,
                                          const v1::DeleteContactRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* CreateCompany(grpc::CallbackServerContext* context,
                                          const v1::CreateCompanyRequest* request,
                                          v1::Company* response) override;
  grpc::ServerUnaryReactor* GetCompany(grpc::CallbackServerContext* context,
                                       const v1::GetCompanyRequest* request,
                                       v1::Company* response) override;
  grpc::ServerUnaryReactor* ListCompanies(grpc::CallbackServerContext* context,
                                          const v1::ListCompaniesRequest* request,
                                          v1::ListCompaniesResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCompany(grpc::CallbackServerContext* context,
                                          const v1::UpdateCompanyRequest* request,
                                          v1::Company* response) override;
  grpc::ServerUnaryReactor* DeleteCompany(grpc::CallbackServerContext* context,
                                          const v1::DeleteCompanyRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* LogActivity(grpc::CallbackServerContext* context,
                                        const v1::LogActivityRequest* request,
                                        v1::Activity* response) override;
  grpc::ServerUnaryReactor* ListActivities(grpc::CallbackServerContext* context,
                                           const v1::ListActivitiesRequest* request,
                                           v1::ListActivitiesResponse* response) override;
  grpc::ServerUnaryReactor* SearchContacts(grpc::CallbackServerContext* context,
                                           const v1::SearchContactsRequest* request,
                                           v1::SearchContactsResponse* response) override;
  grpc::ServerUnaryReactor* FindDuplicates(grpc::CallbackServerContext* context,
                                           const v1::FindDuplicatesRequest* request,
                                           v1::FindDuplicatesResponse* response) override;
  grpc::ServerUnaryReactor* MergeContacts(grpc::CallbackServerContext* context,
                                          const v1::MergeContactsRequest* request,
                                          v1::Contact* response) override;
  grpc::ServerReadReactor<v1::ImportContactsRequest>* ImportContacts(
      grpc::CallbackServerContext* context, v1::ImportContactsResponse* response) override;
  grpc::ServerUnaryReactor* ImportContactsFile(grpc::CallbackServerContext* context,
                                               const v1::ImportContactsFileRequest* request,
                                               v1::ImportContactsResponse* response) override;
  grpc::ServerUnaryReactor* CreateSegment(grpc::CallbackServerContext* context,
                                          const v1::CreateSegmentRequest* request,
                                          v1::Segment* response) override;
  grpc::ServerUnaryReactor* GetSegment(grpc::CallbackServerContext* context,
                                       const v1::GetSegmentRequest* request,
                                       v1::Segment* response) override;
  grpc::ServerUnaryReactor* ListSegments(grpc::CallbackServerContext* context,
                                         const v1::ListSegmentsRequest* request,
                                         v1::ListSegmentsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateSegment(grpc::CallbackServerContext* context,
                                          const v1::UpdateSegmentRequest* request,
                                          v1::Segment* response) override;
  grpc::ServerUnaryReactor* DeleteSegment(grpc::CallbackServerContext* context,
                                          const v1::DeleteSegmentRequest* request,
                                          google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* CountSegment(grpc::CallbackServerContext* context,
                                         const v1::CountSegmentRequest* request,
                                         v1::CountSegmentResponse* response) override;
  grpc::ServerUnaryReactor* ListSegmentMembers(grpc::CallbackServerContext* context,
                                               const v1::ListSegmentMembersRequest* request,
                                               v1::ListContactsResponse* response) override;
  grpc::ServerWriteReactor<v1::ExportChunk>* ExportSegment(
      grpc::CallbackServerContext* context, const v1::ExportSegmentRequest* request) override;
  grpc::ServerUnaryReactor* PreviewSegmentMessages(
      grpc::CallbackServerContext* context, const v1::PreviewSegmentMessagesRequest* request,
      v1::PreviewSegmentMessagesResponse* response) override;
  grpc::ServerUnaryReactor* GetTenantSettings(grpc::CallbackServerContext* context,
                                              const v1::GetTenantSettingsRequest* request,
                                              v1::TenantSettings* response) override;
  grpc::ServerUnaryReactor* UpdateTenantSettings(grpc::CallbackServerContext* context,
                                                 const v1::UpdateTenantSettingsRequest* request,
                                                 v1::TenantSettings* response) override;

  // The custom field RPCs come from fields::ServesCustomFields.

 private:
  const server::Rpcs& rpcs() const override { return rpcs_; }
  fields::CustomFieldsApi& fields_api() override { return fields_api_; }

  // One import, from its options to its report, fed a part of the file at a time.
  class Import;
  // INVALID_ARGUMENT naming segment.filter for a filter that does not compile.
  absl::Status CheckSegmentFilter(const std::string& tenant, const std::string& filter,
                                  absl::Time deadline);
  // A segment and its filter compiled with placeholders from $first_param.
  absl::StatusOr<std::pair<v1::Segment, api::SqlFilter>> LoadSegment(const std::string& tenant,
                                                                     const std::string& name,
                                                                     int first_param,
                                                                     absl::Time deadline);
  // The custom field rules of this service: the tenant's phone region, relations among contacts
  // and companies.
  fields::CustomFieldsApi::Hooks FieldsHooks();
  // A filter over contacts with the tenant's custom fields of contacts.
  absl::StatusOr<api::SqlFilter> CompileContactFilter(const std::string& tenant,
                                                      const std::string& filter, int first_param,
                                                      absl::Time deadline);
  // Values of a record to create: normalised, defaults filled, relations found.
  absl::Status CheckNewValues(const std::string& tenant, const fields::Snapshot& snapshot,
                              fields::Values& values, const fields::Normalizers& normalizers,
                              absl::string_view field, absl::Time deadline);
  // NOT_FOUND naming the field for a relation value that names no live record of the tenant.
  absl::Status CheckRelations(const std::string& tenant, const fields::Values& values,
                              absl::string_view field, absl::Time deadline);
  // The tenant's settings, from a short-lived cache.
  absl::StatusOr<v1::TenantSettings> Settings(const std::string& tenant, absl::Time deadline);

  ContactsStore& store_;
  ActivityStore& activities_;
  SegmentStore& segments_;
  fields::DefinitionStore& custom_fields_;
  fields::CustomFieldsApi fields_api_;
  const server::Rpcs rpcs_;
  server::Executor& executor_;
  const ContactsServiceOptions options_;
  // Open exports and imports per user and tenant (RESOURCE_EXHAUSTED above the bounds).
  server::StreamLimiter streams_;

  struct CachedSettings {
    v1::TenantSettings settings;
    absl::Time expires;
  };
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, CachedSettings> settings_cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace crm::contacts
