// The notification and webhook RPCs of TasksService, and the live watch.
#include <deque>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"
#include "common/api/page_token.h"
#include "common/base/status_macros.h"
#include "common/server/server.h"
#include "services/tasks/service_support.h"
#include "services/tasks/tasks_service.h"

namespace crm::tasks {
namespace {

// A page token holding the last id returned, pinned to the query it came from.
absl::StatusOr<std::string> BeforeId(const std::string& token, const std::string& fingerprint) {
  if (token.empty()) return std::string();
  ASSIGN_OR_RETURN(api::PageCursor cursor, api::DecodePageToken(token, fingerprint));
  if (!ids::IsCanonicalUuid(cursor.last_key)) {
    return api::InvalidField("page_token", "malformed page token");
  }
  return cursor.last_key;
}

absl::Status ValidateWebhookUrl(const std::string& url) {
  if (url.empty()) return api::InvalidField("webhook.url", "required");
  if (url.size() > 2000) return api::InvalidField("webhook.url", "up to 2,000 characters");
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
    return api::InvalidField("webhook.url", "must start with https:// or http://");
  }
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() || host.find('@') != absl::string_view::npos) {
    return api::InvalidField("webhook.url", "needs a host and no user info");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return api::InvalidField("webhook.url", "no spaces or control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* TasksService::ListNotifications(
    grpc::CallbackServerContext* context, const v1::ListNotificationsRequest* request,
    v1::ListNotificationsResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    const std::string fingerprint = api::QueryFingerprint(
        absl::StrCat("notifications\x1f", caller.user, "\x1f", request->unread_only()));
    ASSIGN_OR_RETURN(std::string before, BeforeId(request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto page,
                     notifications_.List(caller.tenant, caller.user, request->unread_only(), before,
                                         page_size, call.deadline));
    if (page.more && !page.items.empty()) {
      response->set_next_page_token(api::EncodePageToken(
          {page.items.back().name().substr(std::string("notifications/").size()), fingerprint}));
    }
    for (auto& n : page.items) *response->add_notifications() = std::move(n);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TasksService::MarkNotificationRead(
    grpc::CallbackServerContext* context, const v1::MarkNotificationReadRequest* request,
    v1::Notification* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), "notifications/", "name"));
    ASSIGN_OR_RETURN(*response,
                     notifications_.MarkRead(caller.tenant, caller.user, id, call.deadline));
    return absl::OkStatus();
  });
}

// One live watch: a reactor that writes the notifications the hub hands it, one at a time.
// Nothing of it runs while it waits: no thread, no query.
class TasksService::Watch final : public grpc::ServerWriteReactor<v1::Notification> {
 public:
  Watch(TasksService& service, server::StreamLimiter::Lease lease)
      : service_(service), lease_(std::move(lease)) {}

  // After construction: registers with the hub, then tells the client the watch is live
  // (response headers), so it knows that notifications fired from now on will come. What the
  // hub hands over in between waits for the headers.
  void Begin(const auth::Principal& caller) {
    registration_ = service_.hub_.Add(caller.tenant, caller.user,
                                      [this](const v1::Notification& n) { Push(n); });
    absl::MutexLock lock(&mu_);
    started_ = true;
    StartSendInitialMetadata();
    if (!queue_.empty() && !finishing_) WriteFrontLocked();
  }

  // From the hub's thread.
  void Push(const v1::Notification& notification) {
    absl::MutexLock lock(&mu_);
    if (finishing_) return;
    if (queue_.size() >= service_.options_.max_queued_per_watch) {
      FinishLocked(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "the watch fell too far behind; watch again (the inbox has them all)"));
      return;
    }
    queue_.push_back(notification);
    if (started_ && !writing_) WriteFrontLocked();
  }

  // Shutdown.
  void End(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    queue_.pop_front();
    if (!ok) return FinishLocked(grpc::Status::CANCELLED);
    if (!queue_.empty() && !finishing_) return WriteFrontLocked();
    if (finishing_) FinishLocked(status_);
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    registration_.reset();  // no delivery in progress once this returns
    {
      absl::MutexLock lock(&service_.watches_mu_);
      service_.watches_.erase(this);
    }
    delete this;
  }

 private:
  void WriteFrontLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    StartWrite(&queue_.front());
  }
  // Finishes once no write is in progress (now, or when the current one is done).
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finishing_) {
      finishing_ = true;
      status_ = status;
    }
    if (!writing_ && !finished_) {
      finished_ = true;
      Finish(status_);
    }
  }

  TasksService& service_;
  server::StreamLimiter::Lease lease_;
  std::unique_ptr<NotificationHub::Registration> registration_;
  absl::Mutex mu_;
  std::deque<v1::Notification> queue_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

namespace {

class RefusedWatch final : public grpc::ServerWriteReactor<v1::Notification> {
 public:
  explicit RefusedWatch(const absl::Status& status) { Finish(api::ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

// Sends the caller's notifications fired after the watch began (only the caller's own).
grpc::ServerWriteReactor<v1::Notification>* TasksService::WatchNotifications(
    grpc::CallbackServerContext* context, const v1::WatchNotificationsRequest*) {
  absl::StatusOr<auth::Principal> caller = rpcs_.Authorize<v1::WatchNotificationsRequest>(*context);
  if (!caller.ok()) return new RefusedWatch(caller.status());
  absl::StatusOr<server::StreamLimiter::Lease> lease =
      streams_.Acquire(caller->tenant, caller->user);
  if (!lease.ok()) return new RefusedWatch(lease.status());
  auto* watch = new Watch(*this, *std::move(lease));
  {
    absl::MutexLock lock(&watches_mu_);
    if (shutting_down_) {
      delete watch;
      return new RefusedWatch(absl::UnavailableError("server shutting down; watch again"));
    }
    watches_.insert(watch);
  }
  watch->Begin(*caller);
  return watch;
}

void TasksService::Shutdown() {
  absl::MutexLock lock(&watches_mu_);
  shutting_down_ = true;
  for (Watch* watch : watches_) {
    watch->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down; watch again"));
  }
}

grpc::ServerUnaryReactor* TasksService::CreateWebhook(grpc::CallbackServerContext* context,
                                                      const v1::CreateWebhookRequest* request,
                                                      v1::Webhook* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    RETURN_IF_ERROR(ValidateWebhookUrl(request->webhook().url()));
    if (request->webhook().description().size() > 500) {
      return api::InvalidField("webhook.description", "up to 500 characters");
    }
    v1::Webhook webhook;
    webhook.set_url(request->webhook().url());
    webhook.set_description(request->webhook().description());
    ASSIGN_OR_RETURN(*response,
                     notifications_.CreateWebhook(caller.tenant, webhook, call.deadline));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TasksService::ListWebhooks(grpc::CallbackServerContext* context,
                                                     const v1::ListWebhooksRequest* request,
                                                     v1::ListWebhooksResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    const std::string fingerprint = api::QueryFingerprint("webhooks");
    ASSIGN_OR_RETURN(
        api::OffsetPage page,
        api::StartOffsetPage(request->page_size(), request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto webhooks, notifications_.ListWebhooks(caller.tenant, page.offset,
                                                                page.read_limit(), call.deadline));
    response->set_next_page_token(api::FinishOffsetPage(webhooks, page, fingerprint));
    for (auto& w : webhooks) *response->add_webhooks() = std::move(w);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* TasksService::DeleteWebhook(grpc::CallbackServerContext* context,
                                                      const v1::DeleteWebhookRequest* request,
                                                      google::protobuf::Empty*) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string id, ParseId(request->name(), "webhooks/", "name"));
    return notifications_.DeleteWebhook(caller.tenant, id, call.deadline);
  });
}

grpc::ServerUnaryReactor* TasksService::ListWebhookDeliveries(
    grpc::CallbackServerContext* context, const v1::ListWebhookDeliveriesRequest* request,
    v1::ListWebhookDeliveriesResponse* response) {
  return rpcs_.Serve(context, request, [=, this](const server::Call& call) -> absl::Status {
    const auth::Principal& caller = call.caller;
    ASSIGN_OR_RETURN(std::string webhook, ParseId(request->parent(), "webhooks/", "parent"));
    ASSIGN_OR_RETURN(int page_size, api::PageSize(request->page_size()));
    const std::string fingerprint =
        api::QueryFingerprint(absl::StrCat("deliveries\x1f", request->parent()));
    ASSIGN_OR_RETURN(std::string before, BeforeId(request->page_token(), fingerprint));
    ASSIGN_OR_RETURN(auto page, notifications_.ListDeliveries(caller.tenant, webhook, before,
                                                              page_size, call.deadline));
    if (page.more && !page.items.empty()) {
      const std::string& last = page.items.back().name();
      response->set_next_page_token(
          api::EncodePageToken({last.substr(last.rfind('/') + 1), fingerprint}));
    }
    for (auto& d : page.items) *response->add_deliveries() = std::move(d);
    return absl::OkStatus();
  });
}

}  // namespace crm::tasks
