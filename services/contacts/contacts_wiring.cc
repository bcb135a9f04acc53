#include "services/contacts/contacts_wiring.h"

namespace crm::contacts {
namespace {

ContactsServiceOptions WithStreamLimits(ContactsServiceOptions options,
                                        const server::ServiceContext& c) {
  options.streams = c.stream_limits;
  return options;
}

}  // namespace

ContactsParts::ContactsParts(server::ServiceContext& c, ContactsServiceOptions options)
    : custom_fields(c.pool, c.outbox, "contacts",
                    {{common::v1::OBJECT_TYPE_CONTACT, "contacts.contacts"},
                     {common::v1::OBJECT_TYPE_COMPANY, "contacts.companies"}}),
      store(c.pool, c.outbox, custom_fields.unique()),
      activities(c.pool, c.outbox),
      segments(c.pool, c.outbox),
      service(store, activities, segments, custom_fields, c.authenticator, c.executor,
              WithStreamLimits(std::move(options), c)) {}

server::WireService WireContacts(ContactsServiceOptions options) {
  return server::WireParts<ContactsParts>(std::move(options));
}

}  // namespace crm::contacts
