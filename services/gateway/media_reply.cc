#include "services/gateway/media_reply.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "crm/common/v1/media.pb.h"

namespace crm::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool Declared(const Descriptor& type) {
  return type.options().GetExtension(crm::common::v1::media);
}

const FieldDescriptor* Field(const Descriptor& type, const char* name, FieldDescriptor::Type kind) {
  const FieldDescriptor* field = type.FindFieldByName(name);
  return field != nullptr && !field->is_repeated() && field->type() == kind ? field : nullptr;
}

std::string SafeContentType(const std::string& type) {
  // Served inline under a sandbox policy; anything else a browser must download, not render.
  for (const char* known : {"text/csv; charset=utf-8", "image/svg+xml"}) {
    if (type == known) return type;
  }
  return "application/octet-stream";
}

std::string SafeFilename(std::string name) {
  name.erase(std::remove_if(name.begin(), name.end(),
                            [](char c) {
                              return c == '"' || c == '\\' ||
                                     static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                            }),
             name.end());
  return name;
}

}  // namespace

absl::Status CheckMediaDeclaration(const Descriptor& type) {
  if (!Declared(type)) return absl::OkStatus();
  if (Field(type, "content_type", FieldDescriptor::TYPE_STRING) == nullptr ||
      Field(type, "filename", FieldDescriptor::TYPE_STRING) == nullptr ||
      Field(type, "content", FieldDescriptor::TYPE_BYTES) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(type.full_name(),
                     " is declared crm.common.v1.media but lacks string content_type, string "
                     "filename or bytes content"));
  }
  return absl::OkStatus();
}

std::optional<MediaReply> AsMedia(const google::protobuf::Message& response) {
  const Descriptor& type = *response.GetDescriptor();
  if (!Declared(type) || !CheckMediaDeclaration(type).ok()) return std::nullopt;
  const auto* reflection = response.GetReflection();
  MediaReply reply;
  reply.content_type = SafeContentType(
      reflection->GetString(response, Field(type, "content_type", FieldDescriptor::TYPE_STRING)));
  reply.filename = SafeFilename(
      reflection->GetString(response, Field(type, "filename", FieldDescriptor::TYPE_STRING)));
  reply.content =
      reflection->GetString(response, Field(type, "content", FieldDescriptor::TYPE_BYTES));
  return reply;
}

}  // namespace crm::gateway
