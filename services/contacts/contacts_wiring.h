// The contacts service's own objects on the shared runtime (common/server/service_runtime.h).
// main() and the tests wire the service with this one function; only the options differ.
#pragma once

#include "common/server/service_runtime.h"
#include "services/contacts/activity_store.h"
#include "services/contacts/contacts_service.h"
#include "services/contacts/contacts_store.h"
#include "services/contacts/segment_store.h"

namespace crm::contacts {

struct ContactsParts final : server::ServiceParts {
  ContactsParts(server::ServiceContext& c, ContactsServiceOptions options);

  fields::DefinitionStore custom_fields;  // first: the store frees unique values it holds
  ContactsStore store;
  ActivityStore activities;
  SegmentStore segments;
  ContactsService service;
};

// Builds ContactsParts and adds the service to the server; the stream limits come from the
// runtime's options, everything else from `options`.
server::WireService WireContacts(ContactsServiceOptions options);

}  // namespace crm::contacts
