#include "common/events/event_stream_service.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/server/write_stream.h"

namespace crm::events {
namespace {

using crm::common::v1::Event;
using Stream = server::WriteStream<Event>;

constexpr int kMaxEventTypes = 100;

// One subscription's position in the outbox and how long it waits when nothing is new.
struct Subscription {
  int64_t cursor = 0;
  std::vector<std::string> types;
  absl::Duration wait;
  absl::Time last_read = absl::InfinitePast();
  std::optional<server::StreamLimiter::Lease> lease;
  prometheus::Gauge* subscribers = nullptr;
  ~Subscription() {
    if (subscribers != nullptr) subscribers->Decrement();
  }
};

}  // namespace

EventStreamService::EventStreamService(db::Pool& pool, std::string schema,
                                       const auth::Authenticator& authenticator,
                                       server::Executor& executor, server::Wakeups& wakeups,
                                       prometheus::Registry* registry, EventStreamOptions options)
    : reader_(pool, std::move(schema)),
      rpcs_(authenticator, executor, crm::common::v1::EventStream::service_full_name()),
      executor_(executor),
      wakeups_(wakeups),
      options_(options),
      streams_(options.limits) {
  if (registry != nullptr) {
    subscribers_ = &prometheus::BuildGauge()
                        .Name("crm_event_stream_subscribers")
                        .Help("Open Subscribe streams")
                        .Register(*registry)
                        .Add({});
    sent_ = &prometheus::BuildCounter()
                 .Name("crm_event_stream_events_sent_total")
                 .Help("Events written to Subscribe streams")
                 .Register(*registry)
                 .Add({});
  }
}

grpc::ServerWriteReactor<Event>* EventStreamService::Subscribe(
    grpc::CallbackServerContext* context, const crm::common::v1::SubscribeRequest* request) {
  // Every tenant's events: only the service identity (its own credential) may read them.
  absl::StatusOr<auth::Principal> caller =
      rpcs_.Authorize<crm::common::v1::SubscribeRequest>(*context);
  if (!caller.ok()) return Stream::Refuse(caller.status());
  if (request->after_position() < 0) {
    return Stream::Refuse(api::InvalidField("after_position", "must be >= 0"));
  }
  if (request->event_types_size() > kMaxEventTypes) {
    return Stream::Refuse(
        api::InvalidField("event_types", absl::StrCat("at most ", kMaxEventTypes)));
  }
  absl::StatusOr<server::StreamLimiter::Lease> lease = streams_.Acquire("", caller->user);
  if (!lease.ok()) return Stream::Refuse(lease.status());

  auto sub = std::make_shared<Subscription>();
  sub->cursor = request->after_position();
  sub->types.assign(request->event_types().begin(), request->event_types().end());
  sub->wait = options_.safety_poll;
  sub->lease.emplace(*std::move(lease));
  if (subscribers_ != nullptr) {
    subscribers_->Increment();
    sub->subscribers = subscribers_;
  }
  auto produce = [this, sub](bool signalled) -> Stream::Step {
    Stream::Step step;
    if (shutting_down_) {
      step.finish = absl::UnavailableError("server shutting down; resubscribe");
      return step;
    }
    const absl::Duration since = absl::Now() - sub->last_read;
    if (since < options_.min_poll_interval) {
      // Reads close together: let commits gather (the executor is not held for long).
      absl::SleepFor(options_.min_poll_interval - since);
    }
    sub->last_read = absl::Now();
    absl::StatusOr<OutboxBatch> batch =
        reader_.Read(sub->cursor, sub->types, options_.batch_size, absl::Now() + absl::Seconds(10));
    if (!batch.ok()) {
      step.finish = batch.status();
      return step;
    }
    // A subscriber that fell behind while connected is told, never silently skipped ahead.
    if (sub->cursor < batch->pruned_through) {
      step.finish = absl::OutOfRangeError(absl::StrCat(
          "events up to position ", batch->pruned_through,
          " were pruned by retention; resubscribe from there after rebuilding your copy"));
      return step;
    }
    const bool full = static_cast<int>(batch->events.size()) == options_.batch_size;
    const bool empty = batch->events.empty();
    sub->cursor = full ? batch->events.back().position() : batch->NextCursor(sub->cursor);
    if (sent_ != nullptr) sent_->Increment(static_cast<double>(batch->events.size()));
    step.messages = std::move(batch->events);
    if (full) return step;  // more is waiting: read again at once
    if (empty && signalled) {
      // Woken but nothing deliverable: the event is held back by an earlier transaction still
      // in flight. Look again soon, rather than waiting for the next notification.
      sub->wait = absl::Milliseconds(10);
    } else if (empty && sub->wait < options_.safety_poll) {
      sub->wait = std::min(sub->wait * 2, options_.safety_poll);  // backing off
    } else {
      sub->wait = options_.safety_poll;
    }
    step.wait = sub->wait;
    return step;
  };
  // Headers first: a subscriber knows its subscription holds a slot before any event comes.
  return Stream::Start(executor_, &wakeups_, std::move(produce), /*headers_first=*/true);
}

}  // namespace crm::events
