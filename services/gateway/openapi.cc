#include "services/gateway/openapi.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace crm::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

std::string RefName(const Descriptor* type) { return type->full_name(); }

json TypeSchema(const FieldDescriptor* field, std::set<const Descriptor*>& needed) {
  json schema;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_UINT32:
      schema = {{"type", "integer"}, {"format", "int32"}};
      break;
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      schema = {{"type", "string"}, {"format", "int64"}};
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      schema = {{"type", "number"}};
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      schema = {{"type", "boolean"}};
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      json values = json::array();
      for (int i = 0; i < field->enum_type()->value_count(); ++i) {
        values.push_back(field->enum_type()->value(i)->name());
      }
      schema = {{"type", "string"}, {"enum", values}};
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      schema = field->type() == FieldDescriptor::TYPE_BYTES
                   ? json{{"type", "string"}, {"format", "byte"}}
                   : json{{"type", "string"}};
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const std::string& name = field->message_type()->full_name();
      if (name == "google.protobuf.Timestamp") {
        schema = {{"type", "string"}, {"format", "date-time"}};
      } else if (name == "google.protobuf.Duration") {
        schema = {{"type", "string"}, {"example", "1.5s"}};
      } else if (name == "google.protobuf.FieldMask") {
        schema = {{"type", "string"}, {"example", "title,dueTime"}};
      } else if (name == "google.protobuf.Any") {
        schema = {{"type", "object"}, {"additionalProperties", true}};
      } else if (field->is_map()) {
        schema = {{"type", "object"},
                  {"additionalProperties", TypeSchema(field->message_type()->field(1), needed)}};
        return schema;
      } else {
        needed.insert(field->message_type());
        schema = {{"$ref", "#/components/schemas/" + RefName(field->message_type())}};
      }
      break;
    }
  }
  if (field->is_repeated()) return {{"type", "array"}, {"items", schema}};
  return schema;
}

json MessageSchema(const Descriptor* type, std::set<const Descriptor*>& needed) {
  json properties = json::object();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    properties[field->json_name()] = TypeSchema(field, needed);
  }
  return {{"type", "object"}, {"properties", properties}};
}

// "/v1/{name=contacts/*}:merge" -> "/v1/contacts/{name}:merge" (a readable, unique path whose
// parameter holds the id; the field's value is the whole "contacts/{id}").
std::string OpenApiPath(const std::string& text, json& parameters) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t close = text.find('}', i);
    const std::string inner = text.substr(i + 1, close - i - 1);
    const size_t eq = inner.find('=');
    const std::string field = inner.substr(0, eq);
    const std::string pattern = eq == std::string::npos ? "*" : inner.substr(eq + 1);
    const std::string param = absl::StrReplaceAll(field, {{".", "_"}});
    out += absl::StrReplaceAll(pattern, {{"**", "{" + param + "}"}, {"*", "{" + param + "}"}});
    parameters.push_back({{"name", param},
                          {"in", "path"},
                          {"required", true},
                          {"description", absl::StrCat("fills `", field, "` as `", pattern, "`")},
                          {"schema", {{"type", "string"}}}});
    i = close + 1;
  }
  return out;
}

}  // namespace

std::string OpenApiJson(const RouteTable& routes, const std::string& title) {
  std::set<const Descriptor*> needed;
  json paths = json::object();
  std::map<std::string, int> operation_ids;  // additional bindings get _2, _3, ...
  for (const Route& route : routes.routes()) {
    json parameters = json::array();
    const std::string path = OpenApiPath(route.path.text(), parameters);
    const Descriptor* input = route.method->input_type();
    std::set<std::string> bound;
    for (const std::string& p : route.path.FieldPaths()) bound.insert(p);
    if (route.body.empty()) {
      for (int i = 0; i < input->field_count(); ++i) {
        const FieldDescriptor* field = input->field(i);
        if (bound.count(field->name()) > 0) continue;
        if (field->message_type() != nullptr &&
            field->message_type()->full_name().rfind("google.protobuf.", 0) != 0) {
          continue;  // nested messages go as "a.b" query parameters; not listed one by one
        }
        parameters.push_back(
            {{"name", field->json_name()}, {"in", "query"}, {"schema", TypeSchema(field, needed)}});
      }
    }
    json operation = {
        {"operationId",
         [&] {
           const std::string id = route.method->service()->name() + "_" + route.method->name();
           const int n = ++operation_ids[id];
           return n == 1 ? id : absl::StrCat(id, "_", n);
         }()},
        {"tags", json::array({route.method->service()->name()})},
        {"parameters", parameters},
        {"security", json::array({{{"bearer", json::array()}}})},
        {"responses",
         {{"200",
           {{"description",
             route.server_streaming ? "a stream of server-sent events (data: JSON)" : "OK"},
            {"content",
             {{route.server_streaming ? "text/event-stream" : "application/json",
               {{"schema",
                 {{"$ref", "#/components/schemas/" + RefName(route.method->output_type())}}}}}}}}},
          {"default",
           {{"description", "an error: google.rpc.Status"},
            {"content",
             {{"application/json",
               {{"schema", {{"$ref", "#/components/schemas/google.rpc.Status"}}}}}}}}}}}};
    needed.insert(route.method->output_type());
    if (!route.body.empty()) {
      const Descriptor* body_type =
          route.body == "*" ? input : input->FindFieldByName(route.body)->message_type();
      if (body_type != nullptr) {
        needed.insert(body_type);
        operation["requestBody"] = {
            {"required", true},
            {"content",
             {{"application/json",
               {{"schema", {{"$ref", "#/components/schemas/" + RefName(body_type)}}}}}}}};
      }
    }
    std::string verb = route.verb;
    for (char& c : verb) c = static_cast<char>(std::tolower(c));
    paths[path][verb] = operation;
  }
  json schemas = json::object();
  std::set<const Descriptor*> done;
  needed.insert(google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
      "google.rpc.Status"));
  while (!needed.empty()) {
    const Descriptor* type = *needed.begin();
    needed.erase(needed.begin());
    if (type == nullptr || !done.insert(type).second) continue;
    schemas[RefName(type)] = MessageSchema(type, needed);
  }
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", title},
        {"version", "v1"},
        {"description",
         "HTTP/JSON for every RPC with a google.api.http annotation. Send `Authorization: Bearer "
         "<JWT>`; errors are google.rpc.Status; `If-Match` carries a resource's etag."}}},
      {"paths", paths},
      {"components",
       {{"schemas", schemas},
        {"securitySchemes",
         {{"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}}}}}}};
  return doc.dump(2);
}

}  // namespace crm::gateway
