// crm.common.v1.EventStream, served by every service over its own outbox, to the service
// identity only (it reads every tenant's events). Each subscription is a reactor (write_stream.h):
// reads run on the executor, and an idle subscription is a pending wake-up, not a thread.
#pragma once

#include <atomic>
#include <string>

#include "common/auth/authenticator.h"
#include "common/db/pool.h"
#include "common/events/outbox_reader.h"
#include "common/server/executor.h"
#include "common/server/rpc.h"
#include "common/server/stream_limiter.h"
#include "common/server/wakeups.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
}  // namespace prometheus

namespace crm::events {

struct EventStreamOptions {
  // Events read from the database per query.
  int batch_size = 500;
  // Longest wait without a notification before looking again (the safety net).
  absl::Duration safety_poll = absl::Seconds(1);
  // Shortest time between two reads of one stream: under a burst of commits, one read picks up
  // many events instead of one read per commit (a few ms of latency for far fewer queries).
  absl::Duration min_poll_interval = absl::Milliseconds(5);
  server::StreamLimits limits;
};

class EventStreamService final : public crm::common::v1::EventStream::CallbackService {
 public:
  // `wakeups` must be signalled when the outbox changes (the notifier's listener).
  EventStreamService(db::Pool& pool, std::string schema, const auth::Authenticator& authenticator,
                     server::Executor& executor, server::Wakeups& wakeups,
                     prometheus::Registry* registry, EventStreamOptions options = {});

  grpc::ServerWriteReactor<crm::common::v1::Event>* Subscribe(
      grpc::CallbackServerContext* context,
      const crm::common::v1::SubscribeRequest* request) override;

  // Ends every open stream with UNAVAILABLE so a graceful shutdown need not wait for them.
  void Shutdown() { shutting_down_ = true; }

 private:
  OutboxReader reader_;
  const server::Rpcs rpcs_;
  server::Executor& executor_;
  server::Wakeups& wakeups_;
  const EventStreamOptions options_;
  server::StreamLimiter streams_;
  std::atomic<bool> shutting_down_{false};
  prometheus::Gauge* subscribers_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
};

}  // namespace crm::events
