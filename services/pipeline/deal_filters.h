// The fields clients may filter deals on (AIP-160), mapped to SQL over pipeline.deals.
#pragma once

#include "common/api/filter.h"

namespace crm::pipeline {

const api::FilterSchema& DealFilterSchema();

}  // namespace crm::pipeline
