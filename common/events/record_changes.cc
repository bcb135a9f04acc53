#include "common/events/record_changes.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "crm/common/v1/custom_fields.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/message_differencer.h"

namespace crm::events {
namespace {

using common::v1::CustomFieldValue;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr absl::string_view kCustomPrefix = "custom_fields.";

bool IsBookkeeping(const std::string& name) {
  static const auto* names =
      new std::set<std::string>{"name", "etag", "create_time", "update_time", "creator"};
  return names->count(name) > 0;
}

// The record's map<string, crm.common.v1.CustomFieldValue> custom_fields, or nullptr.
const FieldDescriptor* CustomFieldsField(const google::protobuf::Descriptor* record) {
  const FieldDescriptor* field = record->FindFieldByName("custom_fields");
  if (field == nullptr || !field->is_map() ||
      field->message_type()->map_value()->message_type() != CustomFieldValue::descriptor()) {
    return nullptr;
  }
  return field;
}

// The entries of a custom_fields map by key (maps read through reflection as repeated entries).
std::map<std::string, const Message*> CustomEntries(const Message& record,
                                                    const FieldDescriptor* field) {
  std::map<std::string, const Message*> entries;
  const auto* reflection = record.GetReflection();
  const FieldDescriptor* key = field->message_type()->map_key();
  for (int i = 0; i < reflection->FieldSize(record, field); ++i) {
    const Message& entry = reflection->GetRepeatedMessage(record, field, i);
    entries[entry.GetReflection()->GetString(entry, key)] = &entry;
  }
  return entries;
}

}  // namespace

std::vector<std::string> ChangedPaths(const Message& before, const Message& after) {
  std::vector<std::string> paths;
  const auto* descriptor = before.GetDescriptor();
  const FieldDescriptor* custom = CustomFieldsField(descriptor);
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (IsBookkeeping(field->name())) continue;
    if (field == custom) {
      const auto was = CustomEntries(before, field);
      const auto is = CustomEntries(after, field);
      std::set<std::string> keys;
      for (const auto& entry : was) keys.insert(entry.first);
      for (const auto& entry : is) keys.insert(entry.first);
      for (const std::string& key : keys) {
        const auto a = was.find(key);
        const auto b = is.find(key);
        const bool same =
            a != was.end() && b != is.end() &&
            google::protobuf::util::MessageDifferencer::Equals(*a->second, *b->second);
        if (!same) paths.push_back(absl::StrCat(kCustomPrefix, key));
      }
      continue;
    }
    // Maps compare as maps, unordered.
    if (!google::protobuf::util::MessageDifferencer().CompareWithFields(before, after, {field},
                                                                        {field})) {
      paths.push_back(field->name());
    }
  }
  return paths;
}

void CopyPrevious(const Message& before, const std::vector<std::string>& paths, Message* previous) {
  previous->CopyFrom(before);
  const auto* descriptor = before.GetDescriptor();
  const FieldDescriptor* custom = CustomFieldsField(descriptor);
  std::set<std::string> fields;
  std::set<std::string> custom_keys;
  for (absl::string_view path : paths) {
    if (absl::ConsumePrefix(&path, kCustomPrefix)) {
      custom_keys.emplace(path);
    } else {
      fields.emplace(path);
    }
  }
  const auto* reflection = previous->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field == custom && fields.count(field->name()) == 0) {
      reflection->ClearField(previous, field);
      for (const auto& [key, entry] : CustomEntries(before, field)) {
        if (custom_keys.count(key) > 0) reflection->AddMessage(previous, field)->CopyFrom(*entry);
      }
      continue;
    }
    if (fields.count(field->name()) == 0) reflection->ClearField(previous, field);
  }
}

}  // namespace crm::events
