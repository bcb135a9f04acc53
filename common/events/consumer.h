// The consumer side of domain events: follows another service's EventStream and applies each
// event in a transaction of this service's database together with its checkpoint, so every
// event takes effect exactly once, across crashes and restarts.
//
// Several replicas may run the same consumer: a session advisory lock elects one to apply; the
// others wait and take over when its connection (and so its lock) goes away. The checkpoint
// update is also fenced on the position it expects, so even two appliers at once cannot apply an
// event twice.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "common/db/transaction.h"
#include "crm/common/v1/events.pb.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
}  // namespace prometheus

namespace crm::events {

struct ConsumerOptions {
  // Names the checkpoint, the leadership lock and the metrics ("reporting.pipeline").
  std::string name;
  // This service's schema, which holds consumer_checkpoints.
  std::string schema;
  // host:port of the producing service.
  std::string source_address;
  // A bearer token with the `service` role, fetched for each (re)connection.
  std::function<std::string()> token;
  // Only these event types; empty for all.
  std::vector<std::string> event_types;
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // How often a standby replica tries to take the lead.
  absl::Duration standby_retry = absl::Milliseconds(500);
};

// Applies one event inside `tx`, whose tenant is the event's. UNAVAILABLE, ABORTED,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and INTERNAL are retried with backoff; any other error is
// permanent: the event goes to consumer_dead_letters and the stream moves on.
using EventHandler =
    std::function<absl::Status(db::Transaction& tx, const crm::common::v1::Event& event)>;

class EventConsumer final {
 public:
  EventConsumer(ConsumerOptions options, db::Pool& pool, EventHandler handler,
                prometheus::Registry* registry);
  ~EventConsumer();

  void Start();
  void Stop();

  // True while this replica holds the lead.
  bool active() const { return active_; }
  // The last position applied (checkpointed).
  int64_t position() const { return position_; }

 private:
  void Run();
  // Leads until the stream ends, the lock is lost or Stop(); returns why it stopped.
  absl::Status Lead();
  absl::StatusOr<int64_t> LoadCheckpoint();
  // Applies with retries; returns non-OK only when stopping or fenced off.
  absl::Status ApplyWithRetries(const crm::common::v1::Event& event);
  absl::Status ApplyOnce(const crm::common::v1::Event& event, bool as_dead_letter,
                         const std::string& error);
  bool Sleep(absl::Duration duration);  // false when stopping

  const ConsumerOptions options_;
  db::Pool& pool_;
  const EventHandler handler_;
  std::thread thread_;
  absl::Notification stop_;
  std::atomic<bool> active_{false};
  std::atomic<int64_t> position_{0};
  std::mutex context_mu_;
  grpc::ClientContext* context_ = nullptr;  // the open stream, cancelled by Stop()

  prometheus::Gauge* lag_seconds_ = nullptr;
  prometheus::Gauge* position_gauge_ = nullptr;
  prometheus::Gauge* active_gauge_ = nullptr;
  prometheus::Counter* applied_ = nullptr;
  prometheus::Counter* dead_letters_ = nullptr;
};

}  // namespace crm::events
