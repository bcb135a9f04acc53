// crm.common.v1.EventStream, served by every service over its own outbox.
#pragma once

#include <atomic>
#include <string>

#include "common/auth/authenticator.h"
#include "common/db/pool.h"
#include "common/events/notifier.h"
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
};

class EventStreamService final : public crm::common::v1::EventStream::Service {
 public:
  EventStreamService(db::Pool& pool, std::string schema, const auth::Authenticator& authenticator,
                     const Notifier& notifier, prometheus::Registry* registry,
                     EventStreamOptions options = {});

  grpc::Status Subscribe(grpc::ServerContext* context,
                         const crm::common::v1::SubscribeRequest* request,
                         grpc::ServerWriter<crm::common::v1::Event>* writer) override;

  // Ends every open stream with UNAVAILABLE so a graceful shutdown need not wait for them.
  void Shutdown() { shutting_down_ = true; }

 private:
  absl::Status Stream(grpc::ServerContext* context,
                      const crm::common::v1::SubscribeRequest& request,
                      grpc::ServerWriter<crm::common::v1::Event>* writer);

  db::Pool& pool_;
  const std::string schema_;
  const auth::Authenticator& authenticator_;
  const Notifier& notifier_;
  const EventStreamOptions options_;
  std::string read_sql_;
  std::string pruned_sql_;
  std::atomic<bool> shutting_down_{false};
  prometheus::Gauge* subscribers_ = nullptr;
  prometheus::Counter* sent_ = nullptr;
};

}  // namespace crm::events
