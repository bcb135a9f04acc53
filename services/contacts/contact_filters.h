// The fields clients may filter contacts and companies on (AIP-160), mapped to SQL over
// contacts.contacts and contacts.companies.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::contacts {

const api::FilterSchema& ContactFilterSchema();
const api::FilterSchema& CompanyFilterSchema();

}  // namespace crm::contacts
