// A small HTTP client for tests (libcurl): one call, or a server-sent event stream read until
// the test has seen enough.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace crm::testing {

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

absl::StatusOr<HttpResponse> HttpCall(const std::string& method, const std::string& url,
                                      const std::map<std::string, std::string>& headers = {},
                                      const std::string& body = "");

// Reads `url` as a stream; `on_data` gets the text as it arrives and returns false to hang up.
// Returns the HTTP status, or an error when `timeout` passes first.
absl::StatusOr<long> HttpStream(const std::string& url,
                                const std::map<std::string, std::string>& headers,
                                const std::function<bool(const std::string&)>& on_data,
                                absl::Duration timeout);

}  // namespace crm::testing
