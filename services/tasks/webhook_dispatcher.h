// POSTs notifications to the tenants' webhooks: signed (webhook_signature.h), retried with
// exponential backoff, every attempt recorded in tasks.webhook_attempts.
//
// All transfers run concurrently on one libcurl multi handle, each with its own timeout, so a
// slow or failing endpoint never holds up the others. A delivery is claimed across replicas with
// FOR UPDATE SKIP LOCKED and leased (its next attempt time moves past the timeout), so a replica
// that dies mid-attempt leaves it to another: delivery is at least once, and receivers dedupe on
// the X-CRM-Delivery header.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

struct sockaddr;

namespace crm::tasks {

// Loopback, private, shared, link-local (cloud metadata), unspecified and multicast addresses,
// IPv4 and IPv6: where a tenant's webhook must not reach.
bool IsInternalAddress(const sockaddr* address);

struct WebhookDispatcherOptions {
  int max_in_flight = 32;
  absl::Duration timeout = absl::Seconds(10);
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Hours(1);
  // Attempts before a delivery is given up as failed.
  int max_attempts = 12;
  // Longest wait before looking for due deliveries again.
  absl::Duration idle_poll = absl::Seconds(1);
  // Loopback and private networks are refused unless this is set (local runs and tests).
  bool allow_private_addresses = false;
};

class WebhookDispatcher final {
 public:
  WebhookDispatcher(db::Pool& pool, prometheus::Registry* registry,
                    WebhookDispatcherOptions options = {});
  ~WebhookDispatcher();

  void Start();
  void Stop();
  // New deliveries were queued: look now rather than at the next poll.
  void Wake();

 private:
  struct Transfer;
  void Run();
  // Claims up to `limit` due deliveries and starts their transfers.
  absl::Status ClaimAndStart(int limit);
  // Records the attempt; returns when the delivery should be tried again (InfiniteFuture when
  // it is done).
  absl::Time Finish(Transfer& transfer, long http_status, const std::string& error);
  // The reason an attempt without an HTTP answer records (see the .cc).
  std::string AttemptError(const Transfer& transfer, int curl_code) const;

  db::Pool& pool_;
  const WebhookDispatcherOptions options_;
  void* multi_ = nullptr;                                 // CURLM*
  std::map<void*, std::unique_ptr<Transfer>> in_flight_;  // by CURL* easy handle
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> woken_{false};
  prometheus::Family<prometheus::Counter>* attempts_ = nullptr;
};

}  // namespace crm::tasks
