// Reminder delay at volume: schedules N reminders spread evenly over a window (10,000 within one
// minute by default) for several users, watches every user's notifications live, and reports
// how late each reminder fired (notification commit vs reminder time) and reached its watcher
// (arrival on WatchNotifications vs reminder time). Checks that each fired exactly once.
// Prints one `key=value` line.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth/authenticator.h"
#include "common/auth/jwt.h"
#include "crm/tasks/v1/tasks_service.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50053", "tasks host:port");
ABSL_FLAG(std::string, jwt_secret, "", "HS256 secret, inline or @file");
ABSL_FLAG(int, reminders, 10000, "reminders to schedule");
ABSL_FLAG(int, window_seconds, 60, "the reminders come due evenly over this window");
ABSL_FLAG(int, users, 20, "assignees (each with a live watch)");
ABSL_FLAG(int, lead_seconds, 20, "time to create them all before the first is due");
ABSL_FLAG(int, concurrency, 8, "parallel creates");

namespace {

namespace v1 = crm::tasks::v1;
using google::protobuf::util::TimeUtil;

std::string Token(const std::string& secret, int user) {
  crm::auth::Claims claims;
  claims.subject = absl::StrCat("rep", user);
  claims.tenant = "bench-reminders";
  claims.roles = {"rep"};
  claims.expires = absl::Now() + absl::Hours(1);
  return crm::auth::SignHs256(claims, secret);
}

absl::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(ts));
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto secret = crm::auth::ReadSecret(absl::GetFlag(FLAGS_jwt_secret));
  if (!secret.ok()) return 2;
  auto channel =
      grpc::CreateChannel(absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials());
  auto stub = v1::TasksService::NewStub(channel);
  const int total = absl::GetFlag(FLAGS_reminders);
  const int users = absl::GetFlag(FLAGS_users);
  std::vector<std::string> tokens;
  for (int u = 0; u < users; ++u) tokens.push_back(Token(*secret, u));

  // One live watch per user, recording when each notification arrives.
  absl::Mutex mu;
  std::map<std::string, absl::Duration> arrival_delay;  // notification name -> arrival - due
  int duplicates_seen = 0;
  std::vector<std::unique_ptr<grpc::ClientContext>> watch_contexts;
  std::vector<std::thread> watchers;
  for (int u = 0; u < users; ++u) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens[u]);
    auto reader = stub->WatchNotifications(context.get(), {});
    reader->WaitForInitialMetadata();
    watchers.emplace_back([&, reader = std::move(reader)] {
      v1::Notification n;
      while (reader->Read(&n)) {
        const absl::Duration delay = absl::Now() - TimeOf(n.due_time());
        absl::MutexLock lock(&mu);
        if (!arrival_delay.emplace(n.name(), delay).second) ++duplicates_seen;
      }
      (void)reader->Finish();
    });
    watch_contexts.push_back(std::move(context));
  }

  const absl::Time first_due = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_lead_seconds));
  const absl::Duration step = absl::Seconds(absl::GetFlag(FLAGS_window_seconds)) / total;
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> creators;
  for (int c = 0; c < absl::GetFlag(FLAGS_concurrency); ++c) {
    creators.emplace_back([&] {
      for (int i = next++; i < total; i = next++) {
        v1::CreateTaskRequest request;
        request.mutable_task()->set_title(absl::StrCat("bench reminder ", i));
        *request.mutable_task()->mutable_reminder_time() = TimeUtil::MicrosecondsToTimestamp(
            absl::ToUnixMicros(first_due + step * static_cast<double>(i)));
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer " + tokens[i % users]);
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        v1::Task created;
        if (!stub->CreateTask(&context, request, &created).ok()) ++failed;
      }
    });
  }
  for (auto& t : creators) t.join();
  const bool created_in_time = absl::Now() < first_due;

  // Wait for every reminder to arrive, bounded.
  const absl::Time give_up = first_due + absl::Seconds(absl::GetFlag(FLAGS_window_seconds) + 60);
  const int expected = total - failed;
  while (absl::Now() < give_up) {
    {
      absl::MutexLock lock(&mu);
      if (static_cast<int>(arrival_delay.size()) >= expected) break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::SleepFor(absl::Seconds(1));  // let any duplicate show itself
  for (auto& context : watch_contexts) context->TryCancel();
  for (auto& t : watchers) t.join();

  // Firing delay from the inbox: notification commit time vs reminder time; and exactly once.
  std::vector<double> fire_ms;
  std::set<std::string> tasks_fired;
  int notifications = 0;
  int late = 0;
  for (const std::string& token : tokens) {
    v1::ListNotificationsRequest request;
    request.set_page_size(1000);
    do {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer " + token);
      v1::ListNotificationsResponse response;
      if (!stub->ListNotifications(&context, request, &response).ok()) break;
      for (const auto& n : response.notifications()) {
        ++notifications;
        late += n.late();
        tasks_fired.insert(n.task());
        fire_ms.push_back(
            absl::ToDoubleMilliseconds(TimeOf(n.create_time()) - TimeOf(n.due_time())));
      }
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
  }
  std::vector<double> watch_ms;
  for (const auto& [name, delay] : arrival_delay)
    watch_ms.push_back(absl::ToDoubleMilliseconds(delay));
  std::printf(
      "reminder_delay reminders=%d window_s=%d created_in_time=%s failed_creates=%d fired=%d "
      "distinct_tasks=%zu duplicates=%d late=%d fire_p50_ms=%.1f fire_p99_ms=%.1f "
      "fire_max_ms=%.1f watch_received=%zu watch_p50_ms=%.1f watch_p99_ms=%.1f\n",
      total, absl::GetFlag(FLAGS_window_seconds), created_in_time ? "yes" : "no", failed.load(),
      notifications, tasks_fired.size(),
      duplicates_seen + (notifications - static_cast<int>(tasks_fired.size())), late,
      Percentile(fire_ms, 0.5), Percentile(fire_ms, 0.99), Percentile(fire_ms, 1.0),
      watch_ms.size(), Percentile(watch_ms, 0.5), Percentile(watch_ms, 0.99));
  return notifications == expected && tasks_fired.size() == static_cast<size_t>(expected) ? 0 : 1;
}
