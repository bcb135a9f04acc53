// What every service whose objects carry custom fields shares: the bodies of the five definition
// RPCs (admins define, members read), record writes checked against the definitions, and filters
// that name them. A service adds its own rules through Hooks.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/api/filter.h"
#include "common/fields/definition_store.h"
#include "common/fields/write_guard.h"
#include "common/server/rpc.h"
#include "crm/common/v1/custom_fields.pb.h"

namespace crm::fields {

class CustomFieldsApi final {
 public:
  struct Hooks {
    // The value rules for the tenant (its phone region, when the service knows it).
    std::function<absl::StatusOr<Normalizers>(const std::string& tenant, absl::Time deadline)>
        normalizers;
    // Refuses definitions the service cannot serve yet (relations to objects it cannot check).
    std::function<absl::Status(const Definition&)> supported;
    // The record message of each object ("crm.contacts.v1.Contact"), for conflict details.
    std::function<std::string(common::v1::ObjectType)> resource_type;
    // The records' uuid id column as the service's list queries name it ("id", "t.id").
    std::string id_column = "id";
  };

  // The hooks of a service that does not know the tenant's phone region (phones in international
  // form) and checks no related records yet (relation fields refused). `resource_types` names
  // the record message of each object the service owns.
  static Hooks WithoutRegionOrRelations(
      std::map<common::v1::ObjectType, std::string> resource_types);

  CustomFieldsApi(DefinitionStore& store, Hooks hooks) : store_(store), hooks_(std::move(hooks)) {}

  absl::Status Create(const server::Call& call, const common::v1::CreateCustomFieldRequest& request,
                      Definition& response);
  absl::Status Get(const server::Call& call, const common::v1::GetCustomFieldRequest& request,
                   Definition& response);
  absl::Status List(const server::Call& call, const common::v1::ListCustomFieldsRequest& request,
                    common::v1::ListCustomFieldsResponse& response);
  absl::Status Update(const server::Call& call, const common::v1::UpdateCustomFieldRequest& request,
                      Definition& response);
  absl::Status Delete(const server::Call& call,
                      const common::v1::DeleteCustomFieldRequest& request);

  // Runs a record write validated against the object's definitions, once more with fresh ones
  // when another replica changed them meanwhile (the write's version check failed). The write
  // hands `guard` to its store; a unique value another record holds comes back as ALREADY_EXISTS
  // naming the holder under "<field>.<key>".
  using Write = std::function<absl::Status(const Snapshot& snapshot, const WriteGuard& guard)>;
  absl::Status WriteRecord(const std::string& tenant, common::v1::ObjectType object,
                           absl::string_view field, absl::Time deadline, const Write& write);

  // Compiles a filter with the tenant's custom fields of `object` added to `base` (as
  // "custom_fields.<key>" over the column custom_fields); when it names a field or option this
  // replica has not seen, once more with fresh definitions (another replica made them).
  absl::StatusOr<api::SqlFilter> CompileFilter(const std::string& tenant,
                                               common::v1::ObjectType object,
                                               const api::FilterSchema& base,
                                               const std::string& filter, int first_param,
                                               absl::Time deadline);

  // An AIP-132 order_by over `base` (name -> trusted SQL) and the object's custom fields, ended
  // by `tiebreak`; fresh definitions once more for a field this replica has not seen.
  absl::StatusOr<std::string> CompileOrderBy(const std::string& tenant,
                                             common::v1::ObjectType object,
                                             const std::map<std::string, std::string>& base,
                                             const std::string& order_by,
                                             absl::string_view tiebreak, absl::Time deadline);

  DefinitionStore& store() { return store_; }

 private:
  DefinitionStore& store_;
  const Hooks hooks_;
};

}  // namespace crm::fields
