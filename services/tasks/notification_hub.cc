#include "services/tasks/notification_hub.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "crm/tasks/v1/tasks_events.pb.h"

namespace crm::tasks {
namespace {

// Both parts come from a verified token: the length prefix keeps ("a:b", "c") and ("a", "b:c")
// apart.
std::string KeyOf(const std::string& tenant, const std::string& user) {
  return absl::StrCat(tenant.size(), ":", tenant, user);
}

}  // namespace

NotificationHub::NotificationHub(db::Pool& pool, const events::Notifier& fired,
                                 NotificationHubOptions options)
    : reader_(pool, "tasks"), fired_(fired), options_(options) {}

NotificationHub::~NotificationHub() { Stop(); }

void NotificationHub::Start() {
  thread_ = std::thread([this] { Run(); });
}

void NotificationHub::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<NotificationHub::Registration> NotificationHub::Add(const std::string& tenant,
                                                                    const std::string& user,
                                                                    Deliver deliver) {
  std::string key = KeyOf(tenant, user);
  std::unique_ptr<Registration> registration(new Registration(this, key));
  absl::MutexLock lock(&mu_);
  watches_[key].emplace(registration.get(), std::move(deliver));
  return registration;
}

NotificationHub::Registration::~Registration() { hub_->Remove(key_, this); }

void NotificationHub::Remove(const std::string& key, const Registration* registration) {
  absl::MutexLock lock(&mu_);  // waits for a delivery in progress
  auto it = watches_.find(key);
  if (it == watches_.end()) return;
  it->second.erase(registration);
  if (it->second.empty()) watches_.erase(it);
}

void NotificationHub::Run() {
  const std::vector<std::string> types = {v1::ReminderFired::descriptor()->full_name()};
  // Start at the present: what fired before the hub started is the inbox's, not a watch's.
  int64_t cursor = -1;
  uint64_t generation = fired_.generation();
  bool woken = false;  // the last wait ended because a reminder fired
  while (!stopping_) {
    const int64_t after = cursor < 0 ? std::numeric_limits<int64_t>::max() - 1 : cursor;
    absl::StatusOr<events::OutboxBatch> batch =
        reader_.Read(after, types, options_.batch_size, absl::Now() + absl::Seconds(10));
    if (!batch.ok()) {
      spdlog::warn("notification hub read failed: {}", std::string(batch.status().message()));
      generation = fired_.WaitForChange(generation, options_.safety_poll);
      continue;
    }
    if (cursor < 0) {
      cursor = std::max<int64_t>(0, batch->horizon - 1);
      live_ = true;
      continue;
    }
    for (const crm::common::v1::Event& event : batch->events) {
      v1::ReminderFired fired;
      if (!event.payload().UnpackTo(&fired)) continue;
      absl::MutexLock lock(&mu_);
      auto it = watches_.find(KeyOf(event.tenant(), fired.notification().recipient()));
      if (it == watches_.end()) continue;
      for (auto& [registration, deliver] : it->second) deliver(fired.notification());
    }
    const bool full = static_cast<int>(batch->events.size()) == options_.batch_size;
    cursor = full ? batch->events.back().position() : batch->NextCursor(cursor);
    if (full) continue;
    // Woken but nothing readable yet: the firing transaction is still committing. Look again
    // soon rather than after the safety poll.
    const absl::Duration wait =
        woken && batch->events.empty() ? absl::Milliseconds(10) : options_.safety_poll;
    const uint64_t now = fired_.WaitForChange(generation, wait);
    woken = now != generation;
    generation = now;
  }
}

}  // namespace crm::tasks
