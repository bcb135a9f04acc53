#include "common/events/consumer.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "common/api/errors.h"
#include "common/base/status_macros.h"
#include "common/db/connection.h"
#include "common/log/log.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"

namespace crm::events {
namespace {

using crm::common::v1::Event;

bool IsRetryable(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

// Marks a checkpoint that moved under us: another applier is active.
constexpr absl::string_view kFenced = "checkpoint moved: another replica is applying";

}  // namespace

EventConsumer::EventConsumer(ConsumerOptions options, db::Pool& pool, EventHandler handler,
                             prometheus::Registry* registry)
    : options_(std::move(options)), pool_(pool), handler_(std::move(handler)) {
  if (registry == nullptr) return;
  const prometheus::Labels labels{{"consumer", options_.name}};
  lag_seconds_ = &prometheus::BuildGauge()
                      .Name("crm_consumer_lag_seconds")
                      .Help("Age of the last applied event when it was applied")
                      .Register(*registry)
                      .Add(labels);
  position_gauge_ = &prometheus::BuildGauge()
                         .Name("crm_consumer_position")
                         .Help("Stream position of the last applied event")
                         .Register(*registry)
                         .Add(labels);
  active_gauge_ = &prometheus::BuildGauge()
                       .Name("crm_consumer_active")
                       .Help("1 while this replica leads the consumer")
                       .Register(*registry)
                       .Add(labels);
  applied_ = &prometheus::BuildCounter()
                  .Name("crm_consumer_events_applied_total")
                  .Help("Events applied with their checkpoint")
                  .Register(*registry)
                  .Add(labels);
  dead_letters_ = &prometheus::BuildCounter()
                       .Name("crm_consumer_dead_letters_total")
                       .Help("Events that failed permanently and were set aside")
                       .Register(*registry)
                       .Add(labels);
}

EventConsumer::~EventConsumer() { Stop(); }

void EventConsumer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventConsumer::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    if (context_ != nullptr) context_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool EventConsumer::Sleep(absl::Duration duration) {
  return !stop_.WaitForNotificationWithTimeout(duration);
}

void EventConsumer::Run() {
  absl::Duration backoff = options_.min_backoff;
  std::minstd_rand jitter(std::random_device{}());
  while (!stop_.HasBeenNotified()) {
    // Leadership: a session lock on a connection of our own, released by the server when this
    // process dies, so a standby takes over without any timeout to tune.
    auto lock_conn = db::Connection::Open(pool_.options().conninfo, absl::Seconds(5));
    absl::StatusOr<db::Result> locked =
        lock_conn.ok() ? (*lock_conn)
                             ->Exec("SELECT pg_try_advisory_lock(hashtext($1))",
                                    {"crm.consumer." + options_.name})
                       : absl::StatusOr<db::Result>(lock_conn.status());
    if (!locked.ok() || !locked->Bool(0, 0)) {
      if (!Sleep(locked.ok() ? options_.standby_retry : backoff)) break;
      continue;
    }
    active_ = true;
    if (active_gauge_) active_gauge_->Set(1);
    spdlog::info("consumer leading name={}", options_.name);
    absl::Status status = Lead();
    active_ = false;
    if (active_gauge_) active_gauge_->Set(0);
    lock_conn->reset();  // closing the session releases the lock
    if (stop_.HasBeenNotified()) break;
    if (status.code() == absl::StatusCode::kOutOfRange) {
      spdlog::error("consumer fell behind retention name={} error={}", options_.name,
                    status.ToString());
      backoff = options_.max_backoff;
    } else {
      spdlog::warn("consumer stream ended name={} error={}", options_.name, status.ToString());
    }
    const double spread = std::uniform_real_distribution<double>(0.5, 1.5)(jitter);
    if (!Sleep(backoff * spread)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
    if (status.ok()) backoff = options_.min_backoff;
  }
}

absl::StatusOr<int64_t> EventConsumer::LoadCheckpoint() {
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::BeginSystem(pool_, absl::Now() + absl::Seconds(10)));
  tx.Queue(absl::StrCat("INSERT INTO ", options_.schema,
                        ".consumer_checkpoints (consumer) VALUES ($1) ON CONFLICT DO NOTHING"),
           {options_.name});
  const int read = tx.Queue(absl::StrCat("SELECT position FROM ", options_.schema,
                                         ".consumer_checkpoints WHERE consumer = $1"),
                            {options_.name});
  RETURN_IF_ERROR(tx.Commit());
  return tx.ResultOf(read).Int(0, 0);
}

absl::Status EventConsumer::Lead() {
  ASSIGN_OR_RETURN(int64_t checkpoint, LoadCheckpoint());
  position_ = checkpoint;
  if (position_gauge_) position_gauge_->Set(static_cast<double>(checkpoint));

  auto channel = grpc::CreateChannel(options_.source_address, grpc::InsecureChannelCredentials());
  auto stub = crm::common::v1::EventStream::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + options_.token());
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    if (stop_.HasBeenNotified()) return absl::CancelledError("stopping");
    context_ = &context;
  }
  crm::common::v1::SubscribeRequest request;
  request.set_after_position(checkpoint);
  for (const std::string& type : options_.event_types) request.add_event_types(type);
  auto reader = stub->Subscribe(&context, request);
  absl::Status status = absl::OkStatus();
  Event event;
  while (reader->Read(&event)) {
    status = ApplyWithRetries(event);
    if (!status.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status finished = reader->Finish();
  {
    std::lock_guard<std::mutex> lock(context_mu_);
    context_ = nullptr;
  }
  if (!status.ok()) return status;
  return api::FromGrpcStatus(finished);
}

absl::Status EventConsumer::ApplyWithRetries(const Event& event) {
  absl::Duration backoff = options_.min_backoff;
  while (!stop_.HasBeenNotified()) {
    absl::Status status = ApplyOnce(event, /*as_dead_letter=*/false, "");
    if (status.ok()) return status;
    if (status.message() == kFenced) return status;
    if (!IsRetryable(status.code())) {
      spdlog::error("consumer dead letter name={} position={} type={} error={}", options_.name,
                    event.position(), event.event_type(), status.ToString());
      RETURN_IF_ERROR(ApplyOnce(event, /*as_dead_letter=*/true, status.ToString()));
      if (dead_letters_) dead_letters_->Increment();
      return absl::OkStatus();
    }
    spdlog::warn("consumer retry name={} position={} error={}", options_.name, event.position(),
                 status.ToString());
    if (!Sleep(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return absl::CancelledError("stopping");
}

absl::Status EventConsumer::ApplyOnce(const Event& event, bool as_dead_letter,
                                      const std::string& error) {
  const int64_t previous = position_;
  ASSIGN_OR_RETURN(db::Transaction tx,
                   db::Transaction::Begin(pool_, event.tenant(), absl::Now() + absl::Seconds(30)));
  // The fence: only the applier that saw `previous` may move the checkpoint on.
  ASSIGN_OR_RETURN(
      db::Result moved,
      tx.Exec(absl::StrCat("UPDATE ", options_.schema,
                           ".consumer_checkpoints SET position = $2, updated_at = "
                           "now() WHERE consumer = $1 AND position = $3"),
              {options_.name, absl::StrCat(event.position()), absl::StrCat(previous)}));
  if (moved.affected() != 1) return absl::AbortedError(kFenced);
  if (as_dead_letter) {
    tx.Queue(absl::StrCat("INSERT INTO ", options_.schema,
                          ".consumer_dead_letters (consumer, position, event_id, event_type, "
                          "error) VALUES ($1, $2, $3::uuid, $4, $5) ON CONFLICT DO NOTHING"),
             {options_.name, absl::StrCat(event.position()), event.event_id(), event.event_type(),
              error});
  } else {
    RETURN_IF_ERROR(handler_(tx, event));
  }
  RETURN_IF_ERROR(tx.Commit());
  position_ = event.position();
  if (position_gauge_) position_gauge_->Set(static_cast<double>(event.position()));
  if (applied_) applied_->Increment();
  if (lag_seconds_) {
    const absl::Time occurred = absl::FromUnixSeconds(event.occurred_time().seconds()) +
                                absl::Nanoseconds(event.occurred_time().nanos());
    lag_seconds_->Set(std::max(0.0, absl::ToDoubleSeconds(absl::Now() - occurred)));
  }
  return absl::OkStatus();
}

}  // namespace crm::events
