#include "common/fields/values_json.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace crm::fields {

std::string ValuesToJson(const Values& values) {
  if (values.empty()) return "{}";
  common::v1::CustomFieldValues wrapper;
  *wrapper.mutable_values() = values;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(wrapper, &json, options).ok()) return "{}";
  // {"values":{...}} -> {...}
  absl::string_view inner = json;
  if (!absl::ConsumePrefix(&inner, "{\"values\":") || !absl::ConsumeSuffix(&inner, "}")) {
    return "{}";
  }
  return std::string(inner);
}

absl::Status ValuesFromJson(absl::string_view json, Values* values) {
  values->clear();
  if (json.empty() || json == "{}") return absl::OkStatus();
  common::v1::CustomFieldValues wrapper;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a value kind added later reads as nothing, not an error
  const auto status = google::protobuf::util::JsonStringToMessage(
      absl::StrCat("{\"values\":", json, "}"), &wrapper, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("stored custom fields: ", status.message().as_string()));
  }
  values->swap(*wrapper.mutable_values());
  return absl::OkStatus();
}

}  // namespace crm::fields
