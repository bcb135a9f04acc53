// The gRPC services this project serves, by full name, with the backend that serves each: one
// list for the tests that sweep every RPC (access declarations, hostile clients, security).
#pragma once

#include <map>
#include <string>

namespace crm::testing {

// Domain services: full name -> backend ("crm.contacts.v1.ContactsService" -> "contacts"). Every
// backend also serves the event stream (crm.common.v1.EventStream), not listed here.
const std::map<std::string, std::string>& ServedServices();

}  // namespace crm::testing
