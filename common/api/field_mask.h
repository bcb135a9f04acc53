// The one update-mask behaviour of every Update RPC (AIP-134):
// - no mask: the writable fields the client set in the patch;
// - "*" alone: every writable field (a full replacement; unset ones are cleared);
// - otherwise exactly the listed fields, each of which must be writable (INVALID_ARGUMENT naming
//   update_mask otherwise, checked before anything is copied). A listed field the patch does not
//   set is cleared.
// Fields are top-level names; output-only fields are simply not in `writable`. A writable map
// keyed by strings also takes "<map>.<key>" paths: that entry alone is set from the patch, or
// removed when the patch lacks it ("custom_fields.tier").
#pragma once

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/message.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace crm::api {

// Copies the masked fields of `patch` into `target` (both of one message type); returns the
// fields copied. `hint` is appended to the error for a path that is not writable ("; use
// MoveDeal" for a deal's stage), keyed by the path.
absl::StatusOr<std::vector<std::string>> ApplyUpdateMask(
    const google::protobuf::Message& patch, const google::protobuf::FieldMask& mask,
    const std::set<std::string>& writable, google::protobuf::Message& target,
    const std::map<std::string, std::string>& hints = {});

}  // namespace crm::api
