// A loopback HTTP server for tests that need to receive requests (webhooks): records every
// request and answers each with the next status of a script (then 200).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct mg_context;
struct mg_connection;

namespace crm::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

class HttpReceiver final {
 public:
  // Listens on 127.0.0.1 on a free port. `script` lists the statuses of the first answers; each
  // answer waits `delay` first (a slow endpoint).
  static std::unique_ptr<HttpReceiver> Start(std::vector<int> script = {},
                                             absl::Duration delay = absl::ZeroDuration());
  ~HttpReceiver();

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;
  // Waits until at least `count` requests arrived or `timeout` passed; returns them all.
  std::vector<ReceivedRequest> WaitFor(size_t count, absl::Duration timeout);
  std::vector<ReceivedRequest> requests();
  // The most requests that were being answered at once.
  int max_concurrent();

 private:
  HttpReceiver() = default;
  static int Handle(mg_connection* conn, void* self);

  mg_context* context_ = nullptr;
  int port_ = 0;
  absl::Mutex mu_;
  std::vector<int> script_ ABSL_GUARDED_BY(mu_);
  std::vector<ReceivedRequest> requests_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_;
  int concurrent_ ABSL_GUARDED_BY(mu_) = 0;
  int max_concurrent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace crm::testing
