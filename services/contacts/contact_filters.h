// The fields clients may filter contacts and companies on (AIP-160), mapped to SQL over
// contacts.contacts and contacts.companies.
#pragma once

#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "common/api/filter.h"

namespace crm::contacts {

const api::FilterSchema& ContactFilterSchema();
const api::FilterSchema& CompanyFilterSchema();
// AIP-132 order_by keys of contacts and of companies (name -> trusted SQL).
const std::map<std::string, std::string>& ContactSortColumns();
const std::map<std::string, std::string>& CompanySortColumns();

}  // namespace crm::contacts
