// The gateway's routes, read from the google.api.http annotations of the services linked into
// the binary: no per-endpoint code. A route ties an HTTP verb and path template to a gRPC method
// and the backend that serves it.
#pragma once

#include <google/protobuf/descriptor.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/gateway/path_template.h"

namespace crm::gateway {

struct Route {
  std::string verb;  // GET, POST, PATCH, PUT, DELETE
  PathTemplate path;
  const google::protobuf::MethodDescriptor* method = nullptr;
  // "" (no body: fields come from the path and the query), "*" (the whole request), or the
  // request field the body fills.
  std::string body;
  std::string backend;    // which backend serves it ("contacts")
  std::string grpc_path;  // "/crm.contacts.v1.ContactsService/CreateContact"
  bool server_streaming = false;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::pair<std::string, std::string>> bindings;
};

class RouteTable final {
 public:
  // `services`: full service name -> backend name. Every method with an annotation becomes a
  // route (with its additional bindings).
  static absl::StatusOr<RouteTable> Build(const std::map<std::string, std::string>& services);

  // The most specific route for `verb` and `path`; NOT_FOUND when no path matches,
  // FAILED_PRECONDITION (405) when the path matches only under other verbs.
  absl::StatusOr<RouteMatch> Match(const std::string& verb, const std::string& path) const;
  // The verbs any route accepts for `path` (CORS preflight, 405's Allow header).
  std::vector<std::string> VerbsFor(const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace crm::gateway
