#include "services/contacts/contacts_service.h"

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/fields/value_normalizers.h"
#include "common/ids/uuid.h"
#include "common/server/server.h"
#include "services/contacts/contact_filters.h"
#include "services/contacts/contact_rules.h"
#include "services/contacts/service_support.h"

namespace crm::contacts {

ContactsService::ContactsService(ContactsStore& store, ActivityStore& activities,
                                 SegmentStore& segments, fields::DefinitionStore& custom_fields,
                                 const auth::Authenticator& authenticator,
                                 server::Executor& executor, ContactsServiceOptions options)
    : store_(store),
      activities_(activities),
      segments_(segments),
      custom_fields_(custom_fields),
      fields_api_(custom_fields, FieldsHooks()),
      rpcs_(authenticator, executor, v1::ContactsService::service_full_name()),
      executor_(executor),
      options_(std::move(options)),
      streams_(options_.streams) {}

absl::StatusOr<v1::TenantSettings> ContactsService::Settings(const std::string& tenant,
                                                             absl::Time deadline) {
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = settings_cache_.find(tenant);
    if (it != settings_cache_.end() && it->second.expires > now) return it->second.settings;
  }
  ASSIGN_OR_RETURN(std::optional<v1::TenantSettings> stored,
                   store_.GetTenantSettings(tenant, deadline));
  v1::TenantSettings settings = stored ? *stored : options_.default_settings;
  settings.set_name("tenantSettings");
  absl::MutexLock lock(&cache_mu_);
  settings_cache_[tenant] = {settings, now + options_.settings_cache_ttl};
  return settings;
}

grpc::ServerUnaryReactor* ContactsService::CreateContact(grpc::CallbackServerContext* context,
                                                         const v1::CreateContactRequest* request,
                                                         v1::Contact* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    v1::Contact contact = request->contact();
    if (contact.owner().empty()) contact.set_owner(caller.user);
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(caller.tenant, deadline));
    RETURN_IF_ERROR(NormalizeContact(contact, settings.default_phone_region(), "contact"));
    RETURN_IF_ERROR(CheckCanCreateFor(caller, contact.owner()));
    const auto normalizers = fields::StandardNormalizers(settings.default_phone_region());
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_CONTACT, "contact.custom_fields", deadline,
        [&](const fields::Snapshot& fields, const WriteGuard& guard) -> absl::Status {
          v1::Contact checked = contact;
          RETURN_IF_ERROR(CheckNewValues(caller.tenant, fields, *checked.mutable_custom_fields(),
                                         normalizers, "contact.custom_fields", deadline));
          ASSIGN_OR_RETURN(*response, store_.CreateContact(caller.tenant, checked, caller.user,
                                                           request->request_id(), deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* ContactsService::GetContact(grpc::CallbackServerContext* context,
                                                      const v1::GetContactRequest* request,
                                                      v1::Contact* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kContactPrefix, "name"));
    ASSIGN_OR_RETURN(*response, store_.GetContact(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListContacts(grpc::CallbackServerContext* context,
                                                        const v1::ListContactsRequest* request,
                                                        v1::ListContactsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = ListFingerprint(request->filter(), request->order_by());
    ASSIGN_OR_RETURN(
        std::string order,
        fields_api_.CompileOrderBy(caller.tenant, common::v1::OBJECT_TYPE_CONTACT,
                                   ContactSortColumns(), request->order_by(), "id", call.deadline));
    ASSIGN_OR_RETURN(Page page, OrderedPageFrom(request->page_size(), request->page_token(),
                                                fingerprint, std::move(order)));
    ASSIGN_OR_RETURN(api::SqlFilter filter,
                     CompileContactFilter(caller.tenant, request->filter(), 4, call.deadline));
    ASSIGN_OR_RETURN(auto result, store_.ListContacts(caller.tenant, page, filter, call.deadline));
    // Before the items are moved out.
    response->set_next_page_token(NextOrderedPageToken(result, page, fingerprint));
    for (auto& contact : result.items) *response->add_contacts() = std::move(contact);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::UpdateContact(grpc::CallbackServerContext* context,
                                                         const v1::UpdateContactRequest* request,
                                                         v1::Contact* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(std::string id,
                     ParseResourceId(request->contact().name(), kContactPrefix, "contact.name"));
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(caller.tenant, deadline));
    const auto normalizers = fields::StandardNormalizers(settings.default_phone_region());
    // Relations are checked before the transaction: it holds the contact's row lock.
    RETURN_IF_ERROR(CheckRelations(caller.tenant, request->contact().custom_fields(),
                                   "contact.custom_fields", deadline));
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_CONTACT, "contact.custom_fields", deadline,
        [&](const fields::Snapshot& fields, const WriteGuard& guard) -> absl::Status {
          auto mutate = [&](const v1::Contact& current) -> absl::StatusOr<v1::Contact> {
            RETURN_IF_ERROR(CheckEtag(request->contact().etag(), current.etag()));
            v1::Contact next = current;
            RETURN_IF_ERROR(ApplyContactMask(request->contact(), request->update_mask(), next));
            RETURN_IF_ERROR(NormalizeContact(next, settings.default_phone_region(), "contact"));
            RETURN_IF_ERROR(fields::NormalizeValues(
                *next.mutable_custom_fields(), fields.definitions, /*creating=*/false,
                &current.custom_fields(), normalizers, "contact.custom_fields"));
            RETURN_IF_ERROR(CheckCanChange(caller, current.owner(), next.owner()));
            return next;
          };
          ASSIGN_OR_RETURN(*response, store_.UpdateContact(caller.tenant, id, caller.user, mutate,
                                                           deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* ContactsService::DeleteContact(grpc::CallbackServerContext* context,
                                                         const v1::DeleteContactRequest* request,
                                                         google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kContactPrefix, "name"));
    auto check = [&](const v1::Contact& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner(), current.owner());
    };
    return store_.DeleteContact(caller.tenant, id, caller.user, check, call.deadline);
  });
}

grpc::ServerUnaryReactor* ContactsService::CreateCompany(grpc::CallbackServerContext* context,
                                                         const v1::CreateCompanyRequest* request,
                                                         v1::Company* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    RETURN_IF_ERROR(ValidateRequestId(request->request_id()));
    v1::Company company = request->company();
    if (company.owner().empty()) company.set_owner(caller.user);
    RETURN_IF_ERROR(NormalizeCompany(company, "company"));
    RETURN_IF_ERROR(CheckCanCreateFor(caller, company.owner()));
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(caller.tenant, call.deadline));
    const auto normalizers = fields::StandardNormalizers(settings.default_phone_region());
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_COMPANY, "company.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const WriteGuard& guard) -> absl::Status {
          v1::Company checked = company;
          RETURN_IF_ERROR(CheckNewValues(caller.tenant, fields, *checked.mutable_custom_fields(),
                                         normalizers, "company.custom_fields", call.deadline));
          ASSIGN_OR_RETURN(*response,
                           store_.CreateCompany(caller.tenant, checked, caller.user,
                                                request->request_id(), call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* ContactsService::GetCompany(grpc::CallbackServerContext* context,
                                                      const v1::GetCompanyRequest* request,
                                                      v1::Company* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kCompanyPrefix, "name"));
    ASSIGN_OR_RETURN(*response, store_.GetCompany(caller.tenant, id, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::ListCompanies(grpc::CallbackServerContext* context,
                                                         const v1::ListCompaniesRequest* request,
                                                         v1::ListCompaniesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = ListFingerprint(request->filter(), request->order_by());
    ASSIGN_OR_RETURN(
        std::string order,
        fields_api_.CompileOrderBy(caller.tenant, common::v1::OBJECT_TYPE_COMPANY,
                                   CompanySortColumns(), request->order_by(), "id", call.deadline));
    ASSIGN_OR_RETURN(Page page, OrderedPageFrom(request->page_size(), request->page_token(),
                                                fingerprint, std::move(order)));
    ASSIGN_OR_RETURN(
        api::SqlFilter filter,
        fields_api_.CompileFilter(caller.tenant, common::v1::OBJECT_TYPE_COMPANY,
                                  CompanyFilterSchema(), request->filter(), 4, call.deadline));
    ASSIGN_OR_RETURN(auto result, store_.ListCompanies(caller.tenant, page, filter, call.deadline));
    // Before the items are moved out.
    response->set_next_page_token(NextOrderedPageToken(result, page, fingerprint));
    for (auto& company : result.items) *response->add_companies() = std::move(company);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::UpdateCompany(grpc::CallbackServerContext* context,
                                                         const v1::UpdateCompanyRequest* request,
                                                         v1::Company* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id,
                     ParseResourceId(request->company().name(), kCompanyPrefix, "company.name"));
    ASSIGN_OR_RETURN(v1::TenantSettings settings, Settings(caller.tenant, call.deadline));
    const auto normalizers = fields::StandardNormalizers(settings.default_phone_region());
    // Relations are checked before the transaction: it holds the company's row lock.
    RETURN_IF_ERROR(CheckRelations(caller.tenant, request->company().custom_fields(),
                                   "company.custom_fields", call.deadline));
    return fields_api_.WriteRecord(
        caller.tenant, common::v1::OBJECT_TYPE_COMPANY, "company.custom_fields", call.deadline,
        [&](const fields::Snapshot& fields, const WriteGuard& guard) -> absl::Status {
          auto mutate = [&](const v1::Company& current) -> absl::StatusOr<v1::Company> {
            RETURN_IF_ERROR(CheckEtag(request->company().etag(), current.etag()));
            v1::Company next = current;
            RETURN_IF_ERROR(ApplyCompanyMask(request->company(), request->update_mask(), next));
            RETURN_IF_ERROR(NormalizeCompany(next, "company"));
            RETURN_IF_ERROR(fields::NormalizeValues(
                *next.mutable_custom_fields(), fields.definitions, /*creating=*/false,
                &current.custom_fields(), normalizers, "company.custom_fields"));
            RETURN_IF_ERROR(CheckCanChange(caller, current.owner(), next.owner()));
            return next;
          };
          ASSIGN_OR_RETURN(*response, store_.UpdateCompany(caller.tenant, id, caller.user, mutate,
                                                           call.deadline, guard));
          return absl::OkStatus();
        });
  });
}

grpc::ServerUnaryReactor* ContactsService::DeleteCompany(grpc::CallbackServerContext* context,
                                                         const v1::DeleteCompanyRequest* request,
                                                         google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseResourceId(request->name(), kCompanyPrefix, "name"));
    auto check = [&](const v1::Company& current) -> absl::Status {
      RETURN_IF_ERROR(CheckEtag(request->etag(), current.etag()));
      return CheckCanChange(caller, current.owner(), current.owner());
    };
    return store_.DeleteCompany(caller.tenant, id, caller.user, check, call.deadline);
  });
}

grpc::ServerUnaryReactor* ContactsService::GetTenantSettings(
    grpc::CallbackServerContext* context, const v1::GetTenantSettingsRequest* request,
    v1::TenantSettings* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::optional<v1::TenantSettings> stored,
                     store_.GetTenantSettings(caller.tenant, call.deadline));
    *response = stored ? *stored : options_.default_settings;
    response->set_name("tenantSettings");
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ContactsService::UpdateTenantSettings(
    grpc::CallbackServerContext* context, const v1::UpdateTenantSettingsRequest* request,
    v1::TenantSettings* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const absl::Time deadline = call.deadline;
    ASSIGN_OR_RETURN(std::optional<v1::TenantSettings> stored,
                     store_.GetTenantSettings(caller.tenant, deadline));
    v1::TenantSettings next = stored ? *stored : options_.default_settings;
    const std::string current_etag = stored ? stored->etag() : "";
    RETURN_IF_ERROR(ApplyTenantSettingsMask(request->settings(), request->update_mask(), next));
    RETURN_IF_ERROR(ValidateTenantSettings(next));
    // The etag check happens in the upsert itself, so a concurrent admin's change is not lost.
    const std::string expected =
        request->settings().etag().empty() ? current_etag : request->settings().etag();
    ASSIGN_OR_RETURN(*response, store_.UpsertTenantSettings(caller.tenant, caller.user, next,
                                                            expected, deadline));
    response->set_name("tenantSettings");
    absl::MutexLock lock(&cache_mu_);
    settings_cache_.erase(caller.tenant);
    return absl::OkStatus();
  });
}

}  // namespace crm::contacts
