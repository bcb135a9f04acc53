// Validation of deals and their update masks. Pure; unit-tested.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "crm/pipeline/v1/deal.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace crm::pipeline {

// Checks a deal's writable fields (errors name "deal.<field>"); fills the currency with
// `default_currency` when the amount has none.
absl::Status NormalizeDeal(v1::Deal& deal, const std::string& default_currency);

// Applies `mask` (AIP-134: empty means the fields set in `patch`). Setting probability_percent
// marks it overridden. Stage, pipeline and output-only fields are not writable (MoveDeal moves).
absl::Status ApplyDealMask(const v1::Deal& patch, const google::protobuf::FieldMask& mask,
                           v1::Deal& target);

}  // namespace crm::pipeline
