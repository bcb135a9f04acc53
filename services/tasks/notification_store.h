// SQL over a user's notifications (inbox, read marks, the recent ones a watcher looks for) and
// over a tenant's webhooks with their deliveries and attempts.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/db/pool.h"
#include "crm/tasks/v1/notification.pb.h"

namespace crm::tasks {

template <typename T>
struct Page {
  std::vector<T> items;
  bool more = false;
};

class NotificationStore final {
 public:
  explicit NotificationStore(db::Pool& pool) : pool_(pool) {}

  // Newest first, before `before_id` when set.
  absl::StatusOr<Page<v1::Notification>> List(const std::string& tenant,
                                              const std::string& recipient, bool unread_only,
                                              const std::string& before_id, int page_size,
                                              absl::Time deadline);
  // NOT_FOUND unless the notification is the recipient's. Marking twice keeps the first time.
  absl::StatusOr<v1::Notification> MarkRead(const std::string& tenant, const std::string& recipient,
                                            const std::string& id, absl::Time deadline);
  // The recipient's notifications created within `window` before the database's now, oldest
  // first.
  absl::StatusOr<std::vector<v1::Notification>> CreatedWithin(const std::string& tenant,
                                                              const std::string& recipient,
                                                              absl::Duration window,
                                                              absl::Time deadline);

  absl::StatusOr<v1::Webhook> CreateWebhook(const std::string& tenant, const v1::Webhook& webhook,
                                            absl::Time deadline);
  absl::StatusOr<std::vector<v1::Webhook>> ListWebhooks(const std::string& tenant, int64_t offset,
                                                        int limit, absl::Time deadline);
  // Also gives up the webhook's pending deliveries.
  absl::Status DeleteWebhook(const std::string& tenant, const std::string& id, absl::Time deadline);
  // Newest first, before `before_id` when set, each with its attempts.
  absl::StatusOr<Page<v1::WebhookDelivery>> ListDeliveries(const std::string& tenant,
                                                           const std::string& webhook_id,
                                                           const std::string& before_id,
                                                           int page_size, absl::Time deadline);

 private:
  db::Pool& pool_;
};

}  // namespace crm::tasks
