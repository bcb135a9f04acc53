// The text, email and phone rules (common/text) that custom field values follow in every service.
#pragma once

#include <string>

#include "common/fields/custom_field_rules.h"

namespace crm::fields {

// Phones are read as dialled in `phone_region` ("AM"); with no region (a service that does not
// know the tenant's), only numbers in international form ("+374...") are accepted.
Normalizers StandardNormalizers(std::string phone_region);

}  // namespace crm::fields
