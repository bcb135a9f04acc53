// What an update of a record changed, for its event: the paths of the changed fields and their
// values before the change (the record after it is the event's record). One path for every
// service's *Updated events, so consumers and webhooks read before and after the same way.
#pragma once

#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace crm::events {

// The fields of `before` and `after` (one message type) that differ, as field mask paths in
// declaration order: top-level field names ("owner", "amount"), and one "custom_fields.<key>"
// per custom field value that was set, changed or cleared. Output-only bookkeeping (name, etag,
// create_time, update_time, creator) is left out.
std::vector<std::string> ChangedPaths(const google::protobuf::Message& before,
                                      const google::protobuf::Message& after);

// Fills `previous` (cleared first) with the values `before` held at `paths`: a field or a
// custom field absent from `previous` was unset before.
void CopyPrevious(const google::protobuf::Message& before, const std::vector<std::string>& paths,
                  google::protobuf::Message* previous);

}  // namespace crm::events
