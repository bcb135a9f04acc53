#include "services/gateway/transcoder.h"

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "google/rpc/status.pb.h"
#include "services/gateway/path_template.h"

namespace crm::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

absl::Status Bad(const std::string& message) { return absl::InvalidArgumentError(message); }

const FieldDescriptor* FindField(const Descriptor* type, absl::string_view name) {
  const FieldDescriptor* field = type->FindFieldByName(std::string(name));
  for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
    if (type->field(i)->json_name() == name) field = type->field(i);
  }
  return field;
}

// Well-known types that proto3 JSON writes as a string.
bool IsStringLike(const Descriptor* type) {
  const std::string& name = type->full_name();
  return name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration" ||
         name == "google.protobuf.FieldMask" || name == "google.protobuf.StringValue" ||
         name == "google.protobuf.Int64Value" || name == "google.protobuf.Int32Value" ||
         name == "google.protobuf.BoolValue" || name == "google.protobuf.DoubleValue";
}

// The JSON object at `path` (field paths like "contact.name") inside `root`, resolving names
// against `type`; creates objects on the way. Sets *leaf to the last field.
absl::StatusOr<json*> Slot(json& root, const Descriptor* type, const std::string& path,
                           const FieldDescriptor** leaf, const std::string& what) {
  json* node = &root;
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* field = FindField(type, parts[i]);
    if (field == nullptr) return Bad(absl::StrCat("unknown ", what, " '", path, "'"));
    if (node->is_null()) *node = json::object();
    if (!node->is_object()) return Bad(absl::StrCat(what, " '", path, "' needs an object there"));
    json& child = (*node)[field->json_name()];
    if (i + 1 == parts.size()) {
      *leaf = field;
      return &child;
    }
    if (field->is_repeated() || field->message_type() == nullptr ||
        IsStringLike(field->message_type())) {
      return Bad(absl::StrCat(what, " '", path, "' goes through a field that is not a message"));
    }
    type = field->message_type();
    node = &child;
  }
  return Bad(absl::StrCat("empty ", what));
}

// A query value as the JSON proto3 would accept for `field`.
absl::StatusOr<json> QueryJson(const FieldDescriptor* field, const std::string& name,
                               const std::string& value) {
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value == "true" || value == "1") return json(true);
      if (value == "false" || value == "0") return json(false);
      return Bad(absl::StrCat("query parameter '", name, "' must be true or false"));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!IsStringLike(field->message_type())) {
        return Bad(absl::StrCat("query parameter '", name, "' is a message; send it in a body"));
      }
      return json(value);
    default:
      return json(value);  // numbers, enums and strings are accepted as JSON strings
  }
}

bool IsUtf8(absl::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    if (c >= 0x80) {
      if ((c >> 5) == 0x6) {
        extra = 1;
      } else if ((c >> 4) == 0xE) {
        extra = 2;
      } else if ((c >> 3) == 0x1E) {
        extra = 3;
      } else {
        return false;
      }
    }
    if (i + extra >= text.size()) return false;  // a sequence cut short
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += extra + 1;
  }
  return true;
}

// The deepest nesting of objects and arrays in a JSON text (strings skipped).
int NestingDepth(absl::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

constexpr int kMaxJsonDepth = 64;

bool Decode(absl::string_view text, std::string* out) {
  std::string plus_as_space(text);
  for (char& c : plus_as_space) {
    if (c == '+') c = ' ';
  }
  // Values become JSON strings and protobuf strings: both must be UTF-8.
  return PercentDecode(plus_as_space, false, out) && IsUtf8(*out);
}

}  // namespace

std::string QueryValue(const std::string& query, const std::string& name) {
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string key, value;
    if (Decode(kv[0], &key) && key == name && Decode(kv.size() > 1 ? kv[1] : "", &value)) {
      return value;
    }
  }
  return "";
}

namespace {
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Build(const RouteMatch& match,
                                                                 const HttpInput& input);
}  // namespace

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> BuildRequest(const RouteMatch& match,
                                                                        const HttpInput& input) {
  // Whatever a client sends must end in a 400, never in an exception through civetweb's thread.
  try {
    return Build(match, input);
  } catch (const std::exception& e) {
    return Bad(absl::StrCat("malformed request: ", api::EscapedEcho(e.what(), 200)));
  }
}

namespace {

// Field-mask paths are snake_case field names joined by dots. Anything whose proto3 JSON form
// reads back as another path ("given__name", "a_1", "given_n_p" -> "givenNP" -> "given_np") is
// refused here rather than reaching the service as something else.
absl::Status CheckFieldMasks(const google::protobuf::Message& message) {
  const Descriptor* type = message.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (field->message_type() == nullptr || field->is_repeated() ||
        field->message_type()->full_name() != "google.protobuf.FieldMask" ||
        !message.GetReflection()->HasField(message, field)) {
      continue;
    }
    google::protobuf::FieldMask mask;
    mask.CopyFrom(message.GetReflection()->GetMessage(message, field));
    for (const std::string& path : mask.paths()) {
      google::protobuf::FieldMask one, back;
      one.add_paths(path);
      std::string json_form;
      // Through the same JSON printer and parser the gateway and its clients use.
      if (!google::protobuf::util::MessageToJsonString(one, &json_form).ok() ||
          !google::protobuf::util::JsonStringToMessage(json_form, &back).ok() ||
          back.paths_size() != 1 || back.paths(0) != path) {
        return Bad(absl::StrCat(field->json_name(), ": '", path, "' is not a field path"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Build(const RouteMatch& match,
                                                                 const HttpInput& input) {
  const Route& route = *match.route;
  const Descriptor* type = route.method->input_type();
  json request = json::object();
  const FieldDescriptor* body_field =
      route.body.empty() || route.body == "*" ? nullptr : type->FindFieldByName(route.body);
  if (!route.body.empty()) {
    json body = json::object();
    if (!IsUtf8(input.body)) return Bad("the body is not valid UTF-8");
    if (NestingDepth(input.body) > kMaxJsonDepth) {
      return Bad(absl::StrCat("the body nests deeper than ", kMaxJsonDepth, " levels"));
    }
    if (!absl::StripAsciiWhitespace(input.body).empty()) {
      try {
        body = json::parse(input.body);
      } catch (const json::parse_error& e) {
        // The parser's message quotes the bytes it last read, possibly half a character:
        // escaped, so the error stays valid UTF-8 (found by gateway_json_fuzz).
        return Bad(absl::StrCat(
            "malformed JSON body at byte ", e.byte, ": ",
            api::EscapedEcho(absl::StripPrefix(e.what(), "[json.exception.parse_error.101] "),
                             200)));
      }
    }
    if (route.body == "*") {
      if (!body.is_object()) return Bad("the body must be a JSON object");
      request = std::move(body);
    } else {
      if (body_field->message_type() != nullptr && !IsStringLike(body_field->message_type()) &&
          !body.is_object()) {
        return Bad("the body must be a JSON object");
      }
      request[body_field->json_name()] = std::move(body);
    }
  } else if (!absl::StripAsciiWhitespace(input.body).empty()) {
    return Bad(absl::StrCat(route.verb, " ", route.path.text(), " takes no body"));
  }

  for (absl::string_view pair : absl::StrSplit(input.query, '&', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    std::string name, value;
    if (!Decode(kv[0], &name) || !Decode(kv.size() > 1 ? kv[1] : "", &value)) {
      return Bad("malformed percent-encoding in the query");
    }
    if (name == "alt" || name == "access_token") continue;  // the response's form, the caller
    if (route.body == "*") {
      return Bad(
          absl::StrCat("query parameter '", name, "': this call takes all fields in the body"));
    }
    const FieldDescriptor* leaf = nullptr;
    absl::StatusOr<json*> slot = Slot(request, type, name, &leaf, "query parameter");
    if (!slot.ok()) return slot.status();
    if (body_field != nullptr && absl::StartsWith(name + ".", route.body + ".")) {
      return Bad(absl::StrCat("query parameter '", name, "' is part of the body"));
    }
    absl::StatusOr<json> v = QueryJson(leaf, name, value);
    if (!v.ok()) return v.status();
    if (leaf->is_repeated()) {
      if (!(*slot)->is_array()) **slot = json::array();
      (*slot)->push_back(std::move(*v));
    } else {
      **slot = std::move(*v);
    }
  }
  for (const auto& [path, value] : match.bindings) {
    if (!IsUtf8(value)) return Bad(absl::StrCat("path field '", path, "' is not valid UTF-8"));
    const FieldDescriptor* leaf = nullptr;
    absl::StatusOr<json*> slot = Slot(request, type, path, &leaf, "path field");
    if (!slot.ok()) return slot.status();
    **slot = value;
  }
  if (!input.if_match.empty()) {
    if (!IsUtf8(input.if_match)) return Bad("If-Match is not valid UTF-8");
    std::string etag(absl::StripAsciiWhitespace(input.if_match));
    etag = std::string(absl::StripPrefix(etag, "W/"));
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
      etag = etag.substr(1, etag.size() - 2);
    }
    // RFC 9110 entity-tag characters (printable ASCII but the quote), and not empty.
    if (etag.empty() || std::any_of(etag.begin(), etag.end(),
                                    [](char c) { return c <= 0x20 || c >= 0x7f || c == '"'; })) {
      return Bad("If-Match is not an entity tag (\"...\" of printable ASCII)");
    }
    const FieldDescriptor* top = type->FindFieldByName("etag");
    if (top != nullptr && top->type() == FieldDescriptor::TYPE_STRING) {
      request[top->json_name()] = etag;
    } else if (body_field != nullptr && body_field->message_type() != nullptr &&
               body_field->message_type()->FindFieldByName("etag") != nullptr) {
      json& body = request[body_field->json_name()];
      if (!body.is_object()) return Bad("the body must be a JSON object");
      body["etag"] = etag;
    } else {
      return Bad("If-Match is not supported by this call");
    }
  }

  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(request.dump(), message.get(), options);
  if (!parsed.ok()) return Bad(std::string(parsed.message()));
  RETURN_IF_ERROR(CheckFieldMasks(*message));
  return message;
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string EtagOf(const google::protobuf::Message& message) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName("etag");
  if (field == nullptr || field->cpp_type() != FieldDescriptor::CPPTYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return message.GetReflection()->GetString(message, field);
}

int HttpStatusOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    default:
      return 500;
  }
}

std::string StatusJson(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) {
    rpc.Clear();
  }
  rpc.set_code(status.error_code());
  rpc.set_message(status.error_message());
  std::string out;
  if (google::protobuf::util::MessageToJsonString(rpc, &out).ok()) return out;
  rpc.clear_details();  // a detail of a type this binary does not know: keep code and message
  return ToJson(rpc);
}

}  // namespace crm::gateway
