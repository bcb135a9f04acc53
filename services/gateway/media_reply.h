// Responses declared as files (crm.common.v1.media in proto/crm/common/v1/media.proto): asked
// with alt=media, the gateway answers with the file itself. The declaration is the only thing the
// gateway knows about them, so a new download in any service needs no gateway code.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace crm::gateway {

struct MediaReply {
  std::string content_type;  // one of the types downloads produce, else application/octet-stream
  std::string filename;      // without quotes, backslashes or control characters
  std::string content;
};

// OK for messages not declared files and for files with `content_type`, `filename` (strings) and
// `content` (bytes); FAILED_PRECONDITION naming the message otherwise.
absl::Status CheckMediaDeclaration(const google::protobuf::Descriptor& type);

// The file in `response`, or nullopt when its type is not declared a file.
std::optional<MediaReply> AsMedia(const google::protobuf::Message& response);

}  // namespace crm::gateway
