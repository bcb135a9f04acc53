#include "common/api/field_mask.h"

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"

namespace crm::api {
namespace {

using google::protobuf::FieldDescriptor;

bool IsSet(const google::protobuf::Message& message, const FieldDescriptor* field) {
  const auto* reflection = message.GetReflection();
  return field->is_repeated() ? reflection->FieldSize(message, field) > 0
                              : reflection->HasField(message, field);
}

// target.field = patch.field, whatever the field's type (a repeated field or map is replaced).
void CopyField(const google::protobuf::Message& patch, const FieldDescriptor* field,
               google::protobuf::Message& target) {
  const auto* reflection = target.GetReflection();
  reflection->ClearField(&target, field);
  if (!IsSet(patch, field)) return;
  if (field->is_repeated()) {
    for (int i = 0; i < reflection->FieldSize(patch, field); ++i) {
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_MESSAGE:  // maps are repeated entries too
          reflection->AddMessage(&target, field)
              ->CopyFrom(reflection->GetRepeatedMessage(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_STRING:
          reflection->AddString(&target, field, reflection->GetRepeatedString(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          reflection->AddEnumValue(&target, field,
                                   reflection->GetRepeatedEnumValue(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          reflection->AddInt32(&target, field, reflection->GetRepeatedInt32(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          reflection->AddInt64(&target, field, reflection->GetRepeatedInt64(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          reflection->AddUInt32(&target, field, reflection->GetRepeatedUInt32(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          reflection->AddUInt64(&target, field, reflection->GetRepeatedUInt64(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
          reflection->AddDouble(&target, field, reflection->GetRepeatedDouble(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_FLOAT:
          reflection->AddFloat(&target, field, reflection->GetRepeatedFloat(patch, field, i));
          break;
        case FieldDescriptor::CPPTYPE_BOOL:
          reflection->AddBool(&target, field, reflection->GetRepeatedBool(patch, field, i));
          break;
      }
    }
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE:
      reflection->MutableMessage(&target, field)->CopyFrom(reflection->GetMessage(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(&target, field, reflection->GetString(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      reflection->SetEnumValue(&target, field, reflection->GetEnumValue(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      reflection->SetInt32(&target, field, reflection->GetInt32(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      reflection->SetInt64(&target, field, reflection->GetInt64(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      reflection->SetUInt32(&target, field, reflection->GetUInt32(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      reflection->SetUInt64(&target, field, reflection->GetUInt64(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      reflection->SetDouble(&target, field, reflection->GetDouble(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      reflection->SetFloat(&target, field, reflection->GetFloat(patch, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      reflection->SetBool(&target, field, reflection->GetBool(patch, field));
      break;
  }
}

// "custom_fields.tier" on a writable map field: that entry alone is copied from the patch, or
// removed when the patch has none. False when `path` is no such path.
bool CopyMapEntry(const google::protobuf::Message& patch, absl::string_view path,
                  const std::set<std::string>& writable, google::protobuf::Message& target) {
  const auto dot = path.find('.');
  if (dot == absl::string_view::npos || dot + 1 == path.size()) return false;
  const std::string name(path.substr(0, dot));
  const std::string key(path.substr(dot + 1));
  const auto* field = target.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || !field->is_map() || writable.count(name) == 0 ||
      field->message_type()->map_key()->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return false;
  }
  const auto* key_field = field->message_type()->map_key();
  const auto* reflection = target.GetReflection();
  for (int i = reflection->FieldSize(target, field) - 1; i >= 0; --i) {
    const auto& entry = reflection->GetRepeatedMessage(target, field, i);
    if (entry.GetReflection()->GetString(entry, key_field) != key) continue;
    reflection->SwapElements(&target, field, i, reflection->FieldSize(target, field) - 1);
    reflection->RemoveLast(&target, field);
  }
  const auto* patch_reflection = patch.GetReflection();
  for (int i = 0; i < patch_reflection->FieldSize(patch, field); ++i) {
    const auto& entry = patch_reflection->GetRepeatedMessage(patch, field, i);
    if (entry.GetReflection()->GetString(entry, key_field) == key) {
      reflection->AddMessage(&target, field)->CopyFrom(entry);
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ApplyUpdateMask(
    const google::protobuf::Message& patch, const google::protobuf::FieldMask& mask,
    const std::set<std::string>& writable, google::protobuf::Message& target,
    const std::map<std::string, std::string>& hints) {
  const auto* descriptor = target.GetDescriptor();
  std::vector<const FieldDescriptor*> fields;
  if (mask.paths().empty()) {
    for (const std::string& path : writable) {
      const auto* field = descriptor->FindFieldByName(path);
      if (field != nullptr && IsSet(patch, field)) fields.push_back(field);
    }
  } else if (mask.paths_size() == 1 && mask.paths(0) == "*") {
    for (const std::string& path : writable) {
      if (const auto* field = descriptor->FindFieldByName(path)) fields.push_back(field);
    }
  } else {
    std::vector<std::string> entries;  // "map.key" paths, applied after the checks
    for (const std::string& path : mask.paths()) {
      const auto* field = descriptor->FindFieldByName(path);
      if (field == nullptr && path.find('.') != std::string::npos) {
        const auto* map = descriptor->FindFieldByName(path.substr(0, path.find('.')));
        if (map != nullptr && map->is_map() && writable.count(map->name()) > 0) {
          entries.push_back(path);
          continue;
        }
      }
      if (writable.count(path) == 0 || field == nullptr) {
        auto hinted = hints.find(path);
        const std::string hint = hinted == hints.end() ? "" : absl::StrCat("; ", hinted->second);
        return InvalidField("update_mask", absl::StrCat("'", EscapedEcho(path, 64),
                                                        "' is not a writable field", hint));
      }
      fields.push_back(field);
    }
    std::vector<std::string> applied;
    for (const auto* field : fields) {
      CopyField(patch, field, target);
      applied.push_back(field->name());
    }
    for (const std::string& path : entries) {
      if (!CopyMapEntry(patch, path, writable, target)) {
        return InvalidField("update_mask", absl::StrCat("'", EscapedEcho(path, 64),
                                                        "' is not a writable field"));
      }
      applied.push_back(path);
    }
    return applied;
  }
  std::vector<std::string> applied;
  for (const auto* field : fields) {
    CopyField(patch, field, target);
    applied.push_back(field->name());
  }
  return applied;
}

}  // namespace crm::api
