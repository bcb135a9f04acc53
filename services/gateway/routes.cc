#include "services/gateway/routes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "google/api/annotations.pb.h"
#include "services/gateway/media_reply.h"

namespace crm::gateway {
namespace {

absl::Status AddRule(const google::api::HttpRule& rule,
                     const google::protobuf::MethodDescriptor* method, const std::string& backend,
                     std::vector<Route>& routes) {
  std::string verb, pattern;
  switch (rule.pattern_case()) {
    case google::api::HttpRule::kGet:
      verb = "GET", pattern = rule.get();
      break;
    case google::api::HttpRule::kPost:
      verb = "POST", pattern = rule.post();
      break;
    case google::api::HttpRule::kPatch:
      verb = "PATCH", pattern = rule.patch();
      break;
    case google::api::HttpRule::kPut:
      verb = "PUT", pattern = rule.put();
      break;
    case google::api::HttpRule::kDelete:
      verb = "DELETE", pattern = rule.delete_();
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(method->full_name(), ": custom verbs"));
  }
  absl::StatusOr<PathTemplate> path = PathTemplate::Parse(pattern);
  if (!path.ok()) return path.status();
  if (!rule.body().empty() && rule.body() != "*" &&
      method->input_type()->FindFieldByName(rule.body()) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(method->full_name(), ": body field ", rule.body(), " does not exist"));
  }
  Route route;
  route.verb = verb;
  route.path = std::move(*path);
  route.method = method;
  route.body = rule.body();
  route.backend = backend;
  route.grpc_path = absl::StrCat("/", method->service()->full_name(), "/", method->name());
  route.server_streaming = method->server_streaming();
  routes.push_back(std::move(route));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RouteTable> RouteTable::Build(const std::map<std::string, std::string>& services) {
  RouteTable table;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const auto& [name, backend] : services) {
    const google::protobuf::ServiceDescriptor* service = pool->FindServiceByName(name);
    if (service == nullptr) return absl::NotFoundError(absl::StrCat("no service ", name));
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* method = service->method(i);
      if (!method->options().HasExtension(google::api::http)) continue;
      // A file download declared without its fields would answer JSON: refuse to start instead.
      RETURN_IF_ERROR(CheckMediaDeclaration(*method->output_type()));
      const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
      if (absl::Status s = AddRule(rule, method, backend, table.routes_); !s.ok()) return s;
      for (const auto& extra : rule.additional_bindings()) {
        if (absl::Status s = AddRule(extra, method, backend, table.routes_); !s.ok()) return s;
      }
    }
  }
  std::stable_sort(table.routes_.begin(), table.routes_.end(), [](const Route& a, const Route& b) {
    return a.path.Specificity() > b.path.Specificity();
  });
  return table;
}

absl::StatusOr<RouteMatch> RouteTable::Match(const std::string& verb,
                                             const std::string& path) const {
  bool other_verb = false;
  for (const Route& route : routes_) {
    auto bindings = route.path.Match(path);
    if (!bindings.has_value()) continue;
    if (route.verb != verb) {
      other_verb = true;
      continue;
    }
    return RouteMatch{&route, std::move(*bindings)};
  }
  const std::string shown_path = api::EscapedEcho(path, 200);
  if (other_verb) {
    return absl::FailedPreconditionError(
        absl::StrCat(api::EscapedEcho(verb, 20), " is not allowed on ", shown_path));
  }
  return absl::NotFoundError(absl::StrCat("no API at ", shown_path));
}

std::vector<std::string> RouteTable::VerbsFor(const std::string& path) const {
  std::vector<std::string> verbs;
  for (const Route& route : routes_) {
    if (route.path.Match(path).has_value() &&
        std::find(verbs.begin(), verbs.end(), route.verb) == verbs.end()) {
      verbs.push_back(route.verb);
    }
  }
  return verbs;
}

}  // namespace crm::gateway
