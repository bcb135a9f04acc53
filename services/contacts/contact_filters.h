// The fields clients may filter contacts and companies on (AIP-160), mapped to SQL over
// contacts.contacts and contacts.companies.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::contacts {

const api::FilterSchema& ContactFilterSchema();
const api::FilterSchema& CompanyFilterSchema();

// A stable fingerprint of a query (filter text, ordering) for page tokens: the same in every
// replica and build, unlike std::hash or absl::Hash.
std::string QueryFingerprint(absl::string_view query);

}  // namespace crm::contacts
