// Commit -> Subscribe stream latency: subscribes to a service's events, creates contacts at a
// steady rate, and measures from each event's occurred_time (stamped just before its commit) to
// its arrival on the stream. Prints one `key=value` line.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "crm/common/v1/event_stream_service.grpc.pb.h"
#include "crm/contacts/v1/contacts_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "contacts host:port");
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file");
ABSL_FLAG(std::string, service_secret, "", "the service identity's secret (it reads the stream)");
ABSL_FLAG(int, events, 1000, "contacts to create");
ABSL_FLAG(int, rate, 200, "creates per second");

namespace {

// A tenant of this run only, so that no earlier event is counted.
const std::string& RunTenant() {
  static const auto* tenant =
      new std::string(absl::StrCat("bench-events-", absl::ToUnixMicros(absl::Now())));
  return *tenant;
}

std::string Token(const std::string& secret, const std::string& role) {
  crm::auth::Claims claims;
  claims.subject = "bench";
  claims.tenant = RunTenant();
  claims.roles = {role};
  claims.expires = absl::Now() + absl::Hours(1);
  return crm::auth::SignHs256(claims, secret);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto secret = crm::auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
  if (!secret.ok()) return 2;
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto events = crm::common::v1::EventStream::NewStub(channel);
  auto contacts = crm::contacts::v1::ContactsService::NewStub(channel);
  const int total = absl::GetFlag(FLAGS_events);

  grpc::ClientContext stream_context;
  stream_context.AddMetadata(
      "authorization",
      "Bearer " + crm::auth::MintServiceToken("bench", absl::GetFlag(FLAGS_service_secret)));
  crm::common::v1::SubscribeRequest request;
  request.add_event_types("crm.contacts.v1.ContactCreated");
  // The stream starts with every tenant's retained events: read past them up to a marker of this
  // run (its first create), then measure.
  auto reader = events->Subscribe(&stream_context, request);
  absl::Notification caught_up;
  absl::Mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<bool> measuring{false};
  std::thread receiver([&] {
    crm::common::v1::Event event;
    while (reader->Read(&event)) {
      const absl::Time arrived = absl::Now();
      // The service identity follows every tenant: count only this run's own creates.
      if (event.tenant() != RunTenant()) continue;
      if (!measuring) {
        if (!caught_up.HasBeenNotified()) caught_up.Notify();  // the marker
        continue;
      }
      const absl::Time occurred = absl::FromUnixSeconds(event.occurred_time().seconds()) +
                                  absl::Nanoseconds(event.occurred_time().nanos());
      absl::MutexLock lock(&mu);
      latencies_ms.push_back(absl::ToDoubleMilliseconds(arrived - occurred));
      if (static_cast<int>(latencies_ms.size()) >= total) break;
    }
  });
  const std::string token = Token(*secret, "manager");
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    crm::contacts::v1::CreateContactRequest marker;
    marker.mutable_contact()->set_given_name("Marker");
    crm::contacts::v1::Contact contact;
    if (!contacts->CreateContact(&context, marker, &contact).ok() ||
        !caught_up.WaitForNotificationWithTimeout(absl::Minutes(2))) {
      std::fprintf(stderr, "event_latency: the stream did not reach the marker\n");
      stream_context.TryCancel();
      receiver.join();
      return 1;
    }
  }
  measuring = true;
  const absl::Duration gap = absl::Seconds(1) / absl::GetFlag(FLAGS_rate);
  const int64_t run = absl::ToUnixMicros(absl::Now());
  absl::Time next = absl::Now();
  for (int i = 0; i < total; ++i) {
    absl::SleepFor(next - absl::Now());
    next += gap;
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    crm::contacts::v1::CreateContactRequest create;
    create.mutable_contact()->set_given_name("Event");
    create.mutable_contact()->add_emails(absl::StrCat("ev", run, "-", i, "@bench.example"));
    crm::contacts::v1::Contact contact;
    if (!contacts->CreateContact(&context, create, &contact).ok()) {
      std::fprintf(stderr, "event_latency: create failed\n");
      stream_context.TryCancel();
      receiver.join();
      return 1;
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (static_cast<int>(latencies_ms.size()) >= total || absl::Now() > deadline) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  stream_context.TryCancel();
  receiver.join();
  absl::MutexLock lock(&mu);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    return latencies_ms.empty()
               ? 0.0
               : latencies_ms[std::min(latencies_ms.size() - 1,
                                       static_cast<size_t>(p * latencies_ms.size()))];
  };
  std::printf("method=commit_to_stream events=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
              latencies_ms.size(), pct(0.5), pct(0.99),
              latencies_ms.empty() ? 0.0 : latencies_ms.back());
  return latencies_ms.size() == static_cast<size_t>(total) ? 0 : 1;
}
